using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Elastic distortion (Simard, Steinkraus and Platt, 2003): per sample, a random displacement field uniform in [−1, 1] is smoothed
/// by a Gaussian of standard deviation <see cref="Sigma"/>, scaled by <see cref="Alpha"/> pixels and applied by bilinear grid
/// sampling. Smoothing is a separable Gaussian convolution done as two small matrix products over the whole batch.
/// </summary>
/// <remarks>Simard et al. used α = 34, σ = 4 on 28×28 digits; milder values (α ≈ 8–20, σ ≈ 3–4) suit Fashion-MNIST.</remarks>
public sealed class ElasticDistortion : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="alpha">The intensity in pixels, ≥ 0 (0 is the identity).</param>
    /// <param name="sigma">The smoothness in pixels, ≥ 0 (small values give noisy, large values gentle distortions).</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    public ElasticDistortion(double alpha = 34, double sigma = 4, double p = 0.5, double fill = 0) : base(p)
    {
        Alpha = TransformGuard.NonNegative(alpha, nameof(alpha));
        Sigma = TransformGuard.NonNegative(sigma, nameof(sigma));
        Fill = TransformGuard.Finite(fill, nameof(fill));
    }

    /// <summary>The intensity in pixels.</summary>
    public double Alpha { get; }

    /// <summary>The standard deviation of the smoothing Gaussian in pixels.</summary>
    public double Sigma { get; }

    /// <summary>The value for areas that come from outside the image.</summary>
    public double Fill { get; }

    /// <inheritdoc />
    public override bool IsIdentity => base.IsIdentity || Alpha == 0;

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        var noise = rand(new[] { shape[0], 2, shape[2], shape[3] }, generator: generator).mul_(2).sub_(1);
        return scope.MoveToOuter(noise);
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var displacement = TransformFunctional.ElasticDisplacement(parameters!.to(images.dtype), Alpha, Sigma);
        var warped = TransformFunctional.DisplacementWarp(images, displacement, Fill);
        return (Select(applied, warped, images), targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"ElasticDistortion(alpha={TransformGuard.Format(Alpha)}, sigma={TransformGuard.Format(Sigma)}, p={TransformGuard.Format(P)}" +
        (Fill != 0 ? $", fill={TransformGuard.Format(Fill)})" : ")");
}
