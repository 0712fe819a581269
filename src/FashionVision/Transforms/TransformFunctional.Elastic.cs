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
        var cols = GaussianConvolutionMatrix(w, sigma, noise.dtype, noise.device);
        // rows · field · colsᵀ for every field at once (cols is symmetric).
        var smoothed = rows.matmul(noise).matmul(cols);
        return scope.MoveToOuter(smoothed.mul_(alpha));
    }

    /// <summary>Warps images by per-pixel displacements: output pixel p reads the input at p + d(p).</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="displacement">Displacements N×2×H×W in pixels (x, then y).</param>
    /// <param name="fill">The value read outside the image.</param>
    public static Tensor DisplacementWarp(Tensor images, Tensor displacement, double fill = 0)
    {
        using var scope = NewDisposeScope();
        long h = images.shape[2], w = images.shape[3];
        var toNormalized = tensor(new[] { 2.0f / w, 2.0f / h }, device: images.device).to(images.dtype).view(1, 1, 1, 2);
        var grid = IdentityGrid(h, w, images.dtype, images.device).unsqueeze(0) + displacement.permute(0, 2, 3, 1) * toNormalized;
        return scope.MoveToOuter(Warp(images, grid, fill));
    }
}
