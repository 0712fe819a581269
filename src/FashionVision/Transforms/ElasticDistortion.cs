using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Elastic distortion (Simard, Steinkraus and Platt, 2003): per sample, a random displacement field uniform in [−1, 1] is smoothed
/// by a Gaussian of standard deviation <see cref="Sigma"/>, scaled by <see cref="Alpha"/> pixels and applied by bilinear grid
/// sampling. By default the smoothed field is drawn directly in its low-rank spectral form
/// (<see cref="TransformFunctional.DrawElasticCoefficients"/>: the same Gaussian-smoothed white noise from 16× fewer random numbers at σ = 4);
/// <see cref="Exact"/> draws full-resolution uniform noise and smooths it by the separable convolution, as in the paper.
/// </summary>
/// <remarks>Simard et al. used α = 34, σ = 4 on 28×28 digits; milder values (α ≈ 8–20, σ ≈ 3–4) suit Fashion-MNIST.</remarks>
public sealed class ElasticDistortion : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="alpha">The intensity in pixels, ≥ 0 (0 is the identity).</param>
    /// <param name="sigma">The smoothness in pixels, ≥ 0 (small values give noisy, large values gentle distortions).</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    /// <param name="exact">Draw full-resolution uniform noise and smooth it (Simard's literal recipe) instead of the spectral draw.</param>
    public ElasticDistortion(double alpha = 34, double sigma = 4, double p = 0.5, double fill = 0, bool exact = false) : base(p)
    {
        Exact = exact;
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

    /// <summary>Whether full-resolution uniform noise is drawn and smoothed (slower) instead of the spectral draw.</summary>
    public bool Exact { get; }

    /// <summary>Whether the spectral draw applies (it needs σ &gt; 0; σ = 0 means unsmoothed noise).</summary>
    private bool Spectral => !Exact && Sigma > 0;

    /// <inheritdoc />
    public override bool IsIdentity => base.IsIdentity || Alpha == 0;

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        if (Spectral)
            return TransformFunctional.DrawElasticCoefficients(shape[0], shape[2], shape[3], Alpha, Sigma, generator);
        using var scope = NewDisposeScope();
        var noise = rand(new[] { shape[0], 2, shape[2], shape[3] }, generator: generator).mul_(2).sub_(1);
        return scope.MoveToOuter(noise);
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var displacement = Displacement(parameters!.to(images.dtype), images.shape[2], images.shape[3]);
        var warped = TransformFunctional.DisplacementWarp(images, displacement, Fill);
        return (Select(applied, warped, images), targets);
    }

    /// <summary>Turns what <see cref="DrawParameters"/> drew (on the images' device) into displacements N×2×H×W in pixels.</summary>
    internal Tensor Displacement(Tensor drawn, long height, long width) =>
        Spectral
            ? TransformFunctional.ExpandElasticCoefficients(drawn, height, width, Sigma)
            : TransformFunctional.ElasticDisplacement(drawn, Alpha, Sigma);

    /// <summary>Draws what <see cref="BatchTransform.Apply"/> draws, in the same order: the selection, then the noise fields (CPU).</summary>
    internal (Tensor Applied, Tensor Noise) Draw(long[] shape, Generator generator)
    {
        var applied = DrawApplied(shape[0], P, generator);
        return (applied, DrawParameters(shape, generator)!);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"ElasticDistortion(alpha={TransformGuard.Format(Alpha)}, sigma={TransformGuard.Format(Sigma)}, p={TransformGuard.Format(P)}" +
        (Fill != 0 ? $", fill={TransformGuard.Format(Fill)}" : "") + (Exact ? ", exact=true)" : ")");
}
