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
/// gains, as scikit-learn's exact method does. Cost per iteration is a dozen N×N tensor operations, done in place in
/// buffers allocated once per fit: the affinities take one float64 N×N tensor, the descent three float32 ones (P and two
/// work buffers), and every temporary is a block of at most 256 rows, so the peak is about 12 N² bytes (300 MB for 5,000
/// points) and does not grow with the iterations. N is capped at <see cref="TsneOptions.MaxPoints"/>.</para>
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

        Tensor p;
        using (var joint = JointProbabilities(x, options.Perplexity))
            p = joint.to_type(ScalarType.Float32);
        var y = Initialize(x, options).to_type(ScalarType.Float32);
        double learningRate = options.LearningRate ?? Math.Max(n / options.EarlyExaggeration / 4, 50);
        // The only N×N tensors of the descent, allocated once: every iteration writes them in place.
        var numerator = empty(n, n, dtype: ScalarType.Float32, device: device);
        var weights = empty_like(numerator);
        var rows = empty(Math.Min(RowBlock, n), n, dtype: ScalarType.Float32, device: device);
        var update = zeros_like(y);
        var gains = ones_like(y);
        int iterations = 0;
        for (int it = 0; it < options.Iterations; it++)
        {
            using var step = NewDisposeScope();
            bool early = it < options.ExaggerationIterations;
            double momentum = early ? 0.5 : 0.8;
            StudentKernel(y, numerator, rows);
            // weights = (αP − Q) ∘ numerator, with Q = numerator / Σ numerator floored at 1e-12.
            weights.copy_(numerator).div_(numerator.sum()).clamp_min_(1e-12);
            if (early)
                SubtractScaledRows(weights, p, options.EarlyExaggeration, rows);
            else
                weights.sub_(p);
            weights.neg_().mul_(numerator);
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

        // KL(P‖Q) = Σ p log(p / q) over the off-diagonal entries, in the same two buffers.
        StudentKernel(y, numerator, rows);
        var q = weights.copy_(numerator).div_(numerator.sum()).clamp_min_(1e-12);
        var terms = numerator.copy_(p).clamp_min_(1e-12).div_(q).log_().mul_(p);
        terms.diagonal(0, 0, 1).fill_(0);
        double kl = terms.sum().item<float>();
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
    /// <remarks>Holds one float64 N×N tensor (the result, which first holds the distances) and two blocks of rows.</remarks>
    public static Tensor JointProbabilities(Tensor points, double perplexity)
    {
        ArgumentNullException.ThrowIfNull(points);
        long n = points.shape[0];
        if (!(perplexity > 0) || perplexity > n - 1)
            throw new ArgumentOutOfRangeException(nameof(perplexity), perplexity, $"The perplexity must lie in (0, {n - 1}] for {n} points.");
        using var scope = NewDisposeScope();
        var x = points.to_type(ScalarType.Float64);
        var rows = empty(Math.Min(RowBlock, n), n, dtype: ScalarType.Float64, device: x.device);
        var products = empty_like(rows);
        var shifted = empty(n, n, dtype: ScalarType.Float64, device: x.device);
        SquaredDistances(x, shifted, rows);
        // Shifting each row by its nearest distance leaves P(j|i) and its entropy unchanged and keeps exp() from underflowing.
        var diagonal = shifted.diagonal(0, 0, 1);
        diagonal.fill_(double.PositiveInfinity);
        shifted.sub_(shifted.amin([1], keepdim: true));
        diagonal.fill_(0);
        double target = Math.Log(perplexity);

        var beta = ones(n, 1, dtype: ScalarType.Float64, device: x.device).div(shifted.mean([1], keepdim: true).clamp_min(1e-12));
        var low = zeros_like(beta);
        var high = full_like(beta, double.PositiveInfinity);
        var entropy = empty_like(beta);
        var used = empty_like(beta);
        for (int step = 0; step < BisectionSteps; step++)
        {
            using var stepScope = NewDisposeScope();
            used.copy_(beta);
            // H = ln Z + β E[D] for P(j|i) = exp(−β D_ij) / Z, a block of rows at a time.
            for (long start = 0; start < n; start += rows.shape[0])
            {
                using var blockScope = NewDisposeScope();
                long count = Math.Min(rows.shape[0], n - start);
                var distances = shifted.narrow(0, start, count);
                var blockBeta = beta.narrow(0, start, count);
                var conditional = rows.narrow(0, 0, count);
                var z = ConditionalRows(distances, blockBeta, start, conditional);
                var expected = products.narrow(0, 0, count).copy_(distances).mul_(conditional).sum(1, keepdim: true);
                entropy.narrow(0, start, count).copy_(z.log().add(blockBeta.mul(expected)));
            }
            var excess = entropy.sub(target);
            if (excess.abs().max().item<double>() < EntropyTolerance)
                break;
            // Too much entropy: the Gaussian is too wide, so β must grow (and the other way round).
            var grow = excess.gt(0);
            low.copy_(where(grow, beta, low));
            high.copy_(where(grow, high, beta));
            beta.copy_(where(high.isinf(), beta.mul(2), low.add(high).div(2)));
        }
        // The conditionals of the last β evaluated replace the distances, then P = (P(j|i) + P(i|j)), normalised.
        for (long start = 0; start < n; start += rows.shape[0])
        {
            using var blockScope = NewDisposeScope();
            long count = Math.Min(rows.shape[0], n - start);
            var block = shifted.narrow(0, start, count);
            ConditionalRows(block, used.narrow(0, start, count), start, block);
        }
        AddTransposeInPlace(shifted);
        shifted.div_(shifted.sum()).clamp_min_(1e-12);
        diagonal.fill_(0);
        return scope.MoveToOuter(shifted);
    }

    /// <summary>Rows in a block: bounds the temporaries of the N×N work to RowBlock × N.</summary>
    private const long RowBlock = 256;

    /// <summary>
    /// Writes P(j|i) = exp(−β_i D_ij) / Z_i of a block of rows starting at row <paramref name="start"/> into
    /// <paramref name="output"/> (which may be <paramref name="distances"/> itself), with a zero diagonal; returns Z (floored at 1e-300).
    /// </summary>
    private static Tensor ConditionalRows(Tensor distances, Tensor beta, long start, Tensor output)
    {
        if (!ReferenceEquals(output, distances))
            output.copy_(distances);
        output.mul_(beta).neg_().exp_();
        output.narrow(1, start, output.shape[0]).diagonal(0, 0, 1).fill_(0);
        var z = output.sum(1, keepdim: true).clamp_min(1e-300);
        output.div_(z);
        return z;
    }

    /// <summary>‖a_i‖² + ‖a_j‖² − 2 a_i·a_j, floored at 0, written into <paramref name="output"/> (N×N); <paramref name="rows"/> is scratch.</summary>
    private static void SquaredDistances(Tensor points, Tensor output, Tensor rows)
    {
        using var scope = NewDisposeScope();
        long n = points.shape[0];
        var squared = points.pow(2).sum(1, keepdim: true);
        var squaredRow = squared.t();
        output.addmm_(points, points.t(), beta: 0, alpha: 1).mul_(2);
        for (long start = 0; start < n; start += rows.shape[0])
        {
            long count = Math.Min(rows.shape[0], n - start);
            var sums = rows.narrow(0, 0, count).copy_(squared.narrow(0, start, count).expand(count, n)).add_(squaredRow);
            // (s_i + s_j) − 2 a_i·a_j, computed as −(2 a_i·a_j − (s_i + s_j)): the same rounding, no N×N temporary.
            output.narrow(0, start, count).sub_(sums).neg_();
        }
        output.clamp_min_(0);
    }

    /// <summary>The Student-t kernel (1 + ‖y_i − y_j‖²)⁻¹ of the map, with a zero diagonal, written into <paramref name="output"/>.</summary>
    private static void StudentKernel(Tensor y, Tensor output, Tensor rows)
    {
        SquaredDistances(y, output, rows);
        output.add_(1).reciprocal_().diagonal(0, 0, 1).fill_(0);
    }

    /// <summary><paramref name="target"/> −= <paramref name="factor"/> · <paramref name="source"/>, the product rounded first, a block of rows at a time.</summary>
    private static void SubtractScaledRows(Tensor target, Tensor source, double factor, Tensor rows)
    {
        long n = target.shape[0];
        for (long start = 0; start < n; start += rows.shape[0])
        {
            long count = Math.Min(rows.shape[0], n - start);
            var scaled = rows.narrow(0, 0, count).copy_(source.narrow(0, start, count)).mul_(factor);
            target.narrow(0, start, count).sub_(scaled);
        }
    }

    /// <summary>A ← A + Aᵀ for a square matrix, by blocks, each entry computed as a_ij + a_ji.</summary>
    private static void AddTransposeInPlace(Tensor matrix)
    {
        long n = matrix.shape[0];
        for (long i = 0; i < n; i += RowBlock)
        {
            long rowsI = Math.Min(RowBlock, n - i);
            for (long j = i; j < n; j += RowBlock)
            {
                using var scope = NewDisposeScope();
                long rowsJ = Math.Min(RowBlock, n - j);
                var upper = matrix.narrow(0, i, rowsI).narrow(1, j, rowsJ);
                var lower = matrix.narrow(0, j, rowsJ).narrow(1, i, rowsI);
                var sum = upper.add(lower.t());
                upper.copy_(sum);
                if (j != i)
                    lower.copy_(sum.t());
            }
        }
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
