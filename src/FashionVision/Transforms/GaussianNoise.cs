using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Adds Gaussian noise with standard deviation <see cref="Std"/> to each selected sample, clamping to [0, 1] by default.</summary>
public sealed class GaussianNoise : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="std">The noise standard deviation, ≥ 0.</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="clip">Clamp the result to [0, 1] (turn off for normalized images).</param>
    public GaussianNoise(double std = 0.05, double p = 0.5, bool clip = true) : base(p)
    {
        Std = TransformGuard.NonNegative(std, nameof(std));
        Clip = clip;
    }

    /// <summary>The noise standard deviation.</summary>
    public double Std { get; }

    /// <summary>Whether the result is clamped to [0, 1].</summary>
    public bool Clip { get; }

    /// <inheritdoc />
    public override bool IsIdentity => base.IsIdentity || Std == 0;

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator) => randn(shape, generator: generator);

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        using var std = full(images.shape[0], Std, images.dtype, images.device);
        var noisy = TransformFunctional.AddGaussianNoise(images, parameters!, std, Clip);
        return (Select(applied, noisy, images), targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"GaussianNoise(std={TransformGuard.Format(Std)}, p={TransformGuard.Format(P)}" + (Clip ? ")" : ", clip=false)");
}
