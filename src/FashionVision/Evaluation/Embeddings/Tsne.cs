using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// Exact t-SNE (van der Maaten and Hinton 2008) in tensor operations: a map of high-dimensional points (e.g. the penultimate
/// features from <see cref="FeatureExtractor"/>) to 2-D where near neighbours stay near. For up to a few thousand points.
/// </summary>
/// <example>
/// <code>
/// using var features = FeatureExtractor.Extract(model, test.Take(2000), new EvaluatorOptions { Normalization = stats });
/// using var map = Tsne.Fit(features);                  // map.Embedding: 2000×2
/// </code>
/// </example>
/// <remarks>
/// <para>Affinities: each point's Gaussian bandwidth is found by bisection (all rows at once) so that the conditional
/// distribution P(j|i) has the requested perplexity; P = (P(j|i) + P(i|j)) / 2N. The map's similarities are Student-t,
/// Q ∝ (1 + ‖y_i − y_j‖²)⁻¹, and gradient descent minimises KL(P‖Q) with early exaggeration, momentum and per-coordinate
/// gains, as scikit-learn's exact method does. Cost per iteration is a dozen N×N tensor operations (memory ≈ 5 N² floats),
/// so N is capped at <see cref="TsneOptions.MaxPoints"/>.</para>
/// <para>t-SNE distances between clusters mean little; compare cluster tightness with <see cref="Silhouette"/> on the
/// features themselves.</para>
/// </remarks>
public static class Tsne
{
    private const int BisectionSteps = 100;
    private const double EntropyTolerance = 1e-5;
    private const double MinGradientNorm = 1e-7;

    /// <summary>Embeds <paramref name="points"/> (N×D) in <see cref="TsneOptions.Dimensions"/> dimensions.</summary>
    /// <param name="points">float N×D, any device; N between 3 and <see cref="TsneOptions.MaxPoints"/>.</param>
    /// <param name="options">Perplexity, iterations, initialisation; null for the defaults.</param>
    /// <returns>The map (float32 N×d on the CPU) and its final KL divergence.</returns>
    /// <exception cref="ArgumentException">The points are not a finite float matrix, N is out of range, or the perplexity is not below N.</exception>
    public static TsneResult Fit(Tensor points, TsneOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(points);
        options ??= new TsneOptions();
        options.Validate();
        long n = AnalysisGuard.FloatRows(points, nameof(points));
        if (n < 3 || n > TsneOptions.MaxPoints)
            throw new ArgumentException($"t-SNE takes between 3 and {TsneOptions.MaxPoints} points; got {n}.", nameof(points));
        if (options.Perplexity >= n)
            throw new ArgumentException($"The perplexity ({options.Perplexity}) must be below the number of points ({n}).", nameof(options));

        var device = options.Device ?? CPU;
        using var scope = NewDisposeScope();
        var x = points.detach().to(device).to_type(ScalarType.Float64);
        AnalysisGuard.Finite(x, nameof(points));
        x = x.sub(x.mean([0], keepdim: true));
        if (options.PcaDimensions is int pca && pca < x.shape[1])
            x = ProjectOnPrincipalComponents(x, pca);

        var p = JointProbabilities(x, options.Perplexity).to_type(ScalarType.Float32);
        var y = Initialize(x, options).to_type(ScalarType.Float32);
        double learningRate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration / 4, 50);
        var diagonal = eye(n, dtype: ScalarType.Bool, device: device);
        var update = zeros_like(y);
        var gains = ones_like(y);
        int iterations = 0;
        for (int it = 0; it < options.Iterations; it++)
        {
            using var step = NewDisposeScope();
            bool early = it < options.ExaggerationIterations;
            double momentum = early ? 0.5 : 0.8;
            var numerator = StudentKernel(y, diagonal);
            var q = numerator.div(numerator.sum()).clamp_min(1e-12);
            var weights = (early ? p.mul(options.EarlyExaggeration) : p).sub(q).mul(numerator);
            // ∂KL/∂y_i = 4 Σ_j (p_ij − q_ij)(1 + ‖y_i − y_j‖²)⁻¹ (y_i − y_j)
            var gradient = weights.sum(1, keepdim: true).mul(y).sub(weights.matmul(y)).mul(4);
            var agree = gradient.sign().eq(update.sign());
            gains.copy_(where(agree, gains.mul(0.8), gains.add(0.2)).clamp_min(0.01));
            update.mul_(momentum).sub_(gains.mul(gradient).mul(learningRate));
            y.add_(update);
            iterations = it + 1;
            if (gradient.norm().item<float>() < MinGradientNorm)
                break;
        }

        var finalNumerator = StudentKernel(y, diagonal);
        var finalQ = finalNumerator.div(finalNumerator.sum()).clamp_min(1e-12);
        double kl = p.mul(p.clamp_min(1e-12).div(finalQ).log()).masked_fill(diagonal, 0).sum().item<float>();
        return new TsneResult(scope.MoveToOuter(y.cpu()), kl, iterations);
    }

    /// <summary>
    /// The symmetric joint probabilities P of t-SNE for <paramref name="points"/> (N×D, distances taken as they are):
    /// per point the Gaussian conditional P(j|i) whose perplexity 2^H equals <paramref name="perplexity"/>, then
    /// P = (P(j|i) + P(i|j)) / 2N, with a zero diagonal and off-diagonal entries at least 1e-12.
    /// </summary>
    /// <param name="points">float N×D.</param>
    /// <param name="perplexity">The target perplexity, in (0, N − 1].</param>
    /// <returns>float64 N×N on the points' device, summing to 1 (up to the 1e-12 floor).</returns>
    public static Tensor JointProbabilities(Tensor points, double perplexity)
    {
        ArgumentNullException.ThrowIfNull(points);
        long n = points.shape[0];
        if (!(perplexity > 0) || perplexity > n - 1)
            throw new ArgumentOutOfRangeException(nameof(perplexity), perplexity, $"The perplexity must lie in (0, {n - 1}] for {n} points.");
        using var scope = NewDisposeScope();
        var x = points.to_type(ScalarType.Float64);
        var squared = x.pow(2).sum(1, keepdim: true);
        var distances = squared.add(squared.t()).sub(x.matmul(x.t()).mul(2)).clamp_min(0);
        var diagonal = eye(n, dtype: ScalarType.Bool, device: x.device);
        // Shifting each row by its nearest distance leaves P(j|i) and its entropy unchanged and keeps exp() from underflowing.
        var nearest = distances.masked_fill(diagonal, double.PositiveInfinity).amin([1], keepdim: true);
        var shifted = distances.sub(nearest).masked_fill(diagonal, 0);
        double target = Math.Log(perplexity);

        var beta = ones(n, 1, dtype: ScalarType.Float64, device: x.device).div(shifted.mean([1], keepdim: true).clamp_min(1e-12));
        var low = zeros_like(beta);
        var high = full_like(beta, double.PositiveInfinity);
        var conditional = zeros_like(distances);
        for (int step = 0; step < BisectionSteps; step++)
        {
            using var stepScope = NewDisposeScope();
            // H = ln Z + β E[D] for P(j|i) = exp(−β D_ij) / Z.
            var weights = shifted.mul(beta).neg().exp().masked_fill(diagonal, 0);
            var z = weights.sum(1, keepdim: true).clamp_min(1e-300);
            conditional.copy_(weights.div(z));
            var entropy = z.log().add(beta.mul(shifted.mul(conditional).sum(1, keepdim: true)));
            var excess = entropy.sub(target);
            if (excess.abs().max().item<double>() < EntropyTolerance)
                break;
            // Too much entropy: the Gaussian is too wide, so β must grow (and the other way round).
            var grow = excess.gt(0);
            low.copy_(where(grow, beta, low));
            high.copy_(where(grow, high, beta));
            beta.copy_(where(high.isinf(), beta.mul(2), low.add(high).div(2)));
        }
        var joint = conditional.add(conditional.t());
        joint = joint.div(joint.sum()).clamp_min(1e-12).masked_fill(diagonal, 0);
        return scope.MoveToOuter(joint);
    }

    /// <summary>The Student-t kernel (1 + ‖y_i − y_j‖²)⁻¹ of the map, with a zero diagonal.</summary>
    private static Tensor StudentKernel(Tensor y, Tensor diagonal)
    {
        var squared = y.pow(2).sum(1, keepdim: true);
        var distances = squared.add(squared.t()).sub(y.matmul(y.t()).mul(2)).clamp_min(0);
        return distances.add(1).reciprocal().masked_fill(diagonal, 0);
    }

    private static Tensor Initialize(Tensor centred, TsneOptions options)
    {
        long n = centred.shape[0];
        if (options.Initialization == TsneInitialization.Random || centred.shape[1] < options.Dimensions)
        {
            using var generator = new torch.Generator((ulong)options.Seed);
            return randn(new long[] { n, options.Dimensions }, ScalarType.Float64, generator: generator).mul(1e-4).to(centred.device);
        }
        var components = ProjectOnPrincipalComponents(centred, options.Dimensions);
        return components.div(components.select(1, 0).std().clamp_min(1e-12)).mul(1e-4);
    }

    /// <summary>
    /// Projects centred data on its first <paramref name="count"/> principal components (eigenvectors of the covariance),
    /// each signed so that its largest loading is positive, so the result does not depend on the eigen-solver's sign choice.
    /// </summary>
    internal static Tensor ProjectOnPrincipalComponents(Tensor centred, int count)
    {
        var covariance = centred.t().matmul(centred);
        var (_, vectors) = linalg.eigh(covariance);
        // eigh sorts eigenvalues ascending: the last columns are the leading components.
        var leading = vectors.narrow(1, vectors.shape[1] - count, count).flip(1);
        var largest = leading.abs().argmax(0, keepdim: true);
        var signs = leading.gather(0, largest).sign();
        signs = where(signs.eq(0), ones_like(signs), signs);
        return centred.matmul(leading.mul(signs));
    }
}

/// <summary>The result of <see cref="Tsne.Fit"/>; owns its tensor.</summary>
public sealed class TsneResult : IDisposable
{
    internal TsneResult(Tensor embedding, double klDivergence, int iterations)
    {
        Embedding = embedding;
        KlDivergence = klDivergence;
        Iterations = iterations;
    }

    /// <summary>The map: float32 N×d on the CPU, rows in the order of the input points.</summary>
    public Tensor Embedding { get; }

    /// <summary>KL(P‖Q) of the final map (lower = the map keeps the neighbourhoods better; compare only at equal perplexity).</summary>
    public double KlDivergence { get; }

    /// <summary>The iterations run (fewer than asked when the gradient vanished).</summary>
    public int Iterations { get; }

    /// <inheritdoc />
    public void Dispose() => Embedding.Dispose();
}
