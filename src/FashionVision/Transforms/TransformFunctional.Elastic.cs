using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

public static partial class TransformFunctional
{
    /// <summary>
    /// The matrix of a 1-D Gaussian convolution with zero padding: <c>G[i, j] = k(i − j)</c> for a kernel of radius ⌈3σ⌉ whose
    /// weights sum to 1. Multiplying by it on both sides of a field is the separable Gaussian blur of Simard et al. (2003), done
    /// as two small matrix products (one BLAS call each for the whole batch) instead of two depthwise convolutions.
    /// </summary>
    /// <param name="size">The signal length (H or W).</param>
    /// <param name="sigma">The standard deviation in pixels; 0 gives the identity.</param>
    /// <param name="dtype">The float dtype.</param>
    /// <param name="device">The device.</param>
    public static Tensor GaussianConvolutionMatrix(long size, double sigma, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        TransformGuard.NonNegative(sigma, nameof(sigma));
        if (sigma == 0)
            return eye(size, size, dtype, device);
        using var scope = NewDisposeScope();
        int radius = (int)Math.Ceiling(3 * sigma);
        var offsets = arange(-radius, radius + 1, ScalarType.Float64);
        var kernel = (-(offsets * offsets) / (2 * sigma * sigma)).exp();
        kernel /= kernel.sum();
        var index = arange(size, ScalarType.Int64);
        var distance = index.view(size, 1) - index.view(1, size);
        var inBand = distance.abs().le(radius);
        var taps = kernel.index_select(0, (distance.clamp(-radius, radius) + radius).flatten()).view(size, size);
        var matrix = where(inBand, taps, zeros_like(taps)).to(dtype, device ?? CPU);
        return scope.MoveToOuter(matrix);
    }

    /// <summary>
    /// Turns raw noise fields into elastic displacements (Simard et al., 2003): Gaussian smoothing with <paramref name="sigma"/>,
    /// then scaling by <paramref name="alpha"/>.
    /// </summary>
    /// <param name="noise">Fields N×2×H×W (x and y components), typically uniform in [−1, 1].</param>
    /// <param name="alpha">The intensity, in pixels.</param>
    /// <param name="sigma">The smoothness, in pixels.</param>
    /// <returns>Displacements N×2×H×W in pixels.</returns>
    public static Tensor ElasticDisplacement(Tensor noise, double alpha, double sigma)
    {
        TransformGuard.NonNegative(alpha, nameof(alpha));
        TransformGuard.NonNegative(sigma, nameof(sigma));
        using var scope = NewDisposeScope();
        long h = noise.shape[2], w = noise.shape[3];
        var rows = GaussianConvolutionMatrix(h, sigma, noise.dtype, noise.device);
        var cols = GaussianConvolutionMatrix(w, sigma, noise.dtype, noise.device).mul_(alpha);
        // rows · field · cols for every field (both matrices are symmetric): along x as one large matrix product over all
        // N·2·H rows, along y as a batched product; no transposed copies.
        var alongX = noise.reshape(-1, w).mm(cols).view(-1, h, w);
        var alongY = rows.unsqueeze(0).expand(alongX.shape[0], h, h).bmm(alongX);
        return scope.MoveToOuter(alongY.view(noise.shape));
    }

    /// <summary>Warps images by per-pixel displacements: output pixel p reads the input at p + d(p).</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="displacement">Displacements N×2×H×W in pixels (x, then y).</param>
    /// <param name="fill">The value read outside the image.</param>
    public static Tensor DisplacementWarp(Tensor images, Tensor displacement, double fill = 0)
    {
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var toNormalized = tensor(new[] { 2.0f / w, 2.0f / h }, device: images.device).to(images.dtype).view(1, 2, 1, 1);
        var identity = IdentityGrid(h, w, images.dtype, images.device).permute(2, 0, 1).unsqueeze(0);
        // Planes N×2×H×W, read by grid_sample through a permuted view (no interleaving copy).
        var planes = (displacement * toNormalized).add_(identity);
        return scope.MoveToOuter(Warp(images, planes.permute(0, 2, 3, 1), fill));
    }

    private static readonly ConcurrentDictionary<(long Size, double Sigma), (float[] Basis, int Rank)> SmoothingBases = new();

    /// <summary>
    /// The spectral factor of the Gaussian convolution matrix G (size×size): B = V_k·Λ_k from G's eigen-decomposition, keeping the k
    /// largest eigenvalues that hold all but 10⁻⁴ of G's energy (k = 7 for 28 pixels and σ = 4, 14 for σ = 2). Computed once per size and σ.
    /// </summary>
    /// <returns>B as size×k float32 values (row-major) and k.</returns>
    internal static (float[] Basis, int Rank) SmoothingBasis(long size, double sigma) =>
        SmoothingBases.GetOrAdd((size, sigma), key =>
        {
            using var scope = NewDisposeScope();
            var g = GaussianConvolutionMatrix(key.Size, key.Sigma, ScalarType.Float64);
            var (values, vectors) = linalg.eigh(g);
            var energy = values.square().flip(0).cumsum(0);
            double total = energy[-1].item<double>();
            int rank = (int)Math.Min(key.Size, energy.lt(total * (1 - 1e-4)).sum().item<long>() + 1);
            var basis = (vectors * values.view(1, -1)).flip(1)[.., ..rank].contiguous().to(ScalarType.Float32);
            return (basis.data<float>().ToArray(), rank);
        });

    /// <summary>
    /// Draws smooth elastic displacements with the distribution of <see cref="ElasticDisplacement"/> applied to white Gaussian
    /// noise of variance 1/3 (the variance of uniform [−1, 1] noise; after smoothing over ~σ² pixels the two are practically
    /// indistinguishable). Because Vᵀ·W·V of white Gaussian noise W is again white Gaussian noise for orthonormal V,
    /// G_h·W·G_w has the same distribution as B_h·Z·B_wᵀ with Z a small k_h×k_w Gaussian matrix and B = V·Λ the spectral
    /// factors of the Gaussian matrices; dropping the eigenvalues beyond 99.99% of the energy, this needs 16× fewer random numbers at σ = 4
    /// and no full-size convolution.
    /// </summary>
    /// <param name="n">The number of fields.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <param name="alpha">The intensity, in pixels.</param>
    /// <param name="sigma">The smoothness, in pixels (&gt; 0).</param>
    /// <param name="generator">The CPU generator.</param>
    /// <returns>The low-rank Gaussian coefficients N×2×k_h×k_w (CPU) to pass to <see cref="ExpandElasticCoefficients"/>.</returns>
    public static Tensor DrawElasticCoefficients(long n, long height, long width, double alpha, double sigma, Generator generator)
    {
        TransformGuard.NonNegative(alpha, nameof(alpha));
        TransformGuard.Positive(sigma, nameof(sigma));
        int kh = SmoothingBasis(height, sigma).Rank, kw = SmoothingBasis(width, sigma).Rank;
        using var scope = NewDisposeScope();
        var z = randn(new[] { n, 2, (long)kh, kw }, generator: generator).mul_(alpha / Math.Sqrt(3));
        return scope.MoveToOuter(z);
    }

    /// <summary>Expands coefficients from <see cref="DrawElasticCoefficients"/> into displacements N×2×H×W (pixels) on their device.</summary>
    /// <param name="coefficients">Coefficients N×2×k_h×k_w.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <param name="sigma">The smoothness used to draw them.</param>
    public static Tensor ExpandElasticCoefficients(Tensor coefficients, long height, long width, double sigma)
    {
        using var scope = NewDisposeScope();
        var (rowBasis, kh) = SmoothingBasis(height, sigma);
        var (colBasis, kw) = SmoothingBasis(width, sigma);
        var bh = tensor(rowBasis, new[] { height, (long)kh }).to(coefficients.dtype, coefficients.device);
        var bw = tensor(colBasis, new[] { width, (long)kw }).to(coefficients.dtype, coefficients.device);
        long n = coefficients.shape[0];
        // Z·B_wᵀ as one matrix product over all N·2·k_h rows, then B_h·(…) per field.
        var right = coefficients.reshape(-1, kw).mm(bw.t()).view(n * 2, kh, width);
        var fields = bh.unsqueeze(0).expand(n * 2, height, kh).bmm(right);
        return scope.MoveToOuter(fields.view(n, 2, height, width));
    }
}
