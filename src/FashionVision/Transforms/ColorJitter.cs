using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Brightness and contrast jitter for images in [0, 1]: per selected sample, brightness is multiplied by a factor from
/// [max(0, 1 − brightness), 1 + brightness], then contrast around the sample's mean by a factor from
/// [max(0, 1 − contrast), 1 + contrast]; the result is clamped to [0, 1]. (Saturation and hue mean nothing for grayscale.)
/// </summary>
public sealed class ColorJitter : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="brightness">The brightness jitter, ≥ 0.</param>
    /// <param name="contrast">The contrast jitter, ≥ 0.</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public ColorJitter(double brightness = 0, double contrast = 0, double p = 1) : base(p)
    {
        Brightness = TransformGuard.NonNegative(brightness, nameof(brightness));
        Contrast = TransformGuard.NonNegative(contrast, nameof(contrast));
    }

    /// <summary>The brightness jitter.</summary>
    public double Brightness { get; }

    /// <summary>The contrast jitter.</summary>
    public double Contrast { get; }

    /// <inheritdoc />
    public override bool IsIdentity => base.IsIdentity || (Brightness == 0 && Contrast == 0);

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        var u = rand(new[] { shape[0], 2 }, generator: generator);
        double bMin = Math.Max(0, 1 - Brightness), cMin = Math.Max(0, 1 - Contrast);
        var brightness = u[.., 0] * (1 + Brightness - bMin) + bMin;
        var contrast = u[.., 1] * (1 + Contrast - cMin) + cMin;
        return scope.MoveToOuter(stack(new[] { brightness, contrast }, 1));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var result = images;
        if (Brightness > 0)
            result = TransformFunctional.AdjustBrightness(result, parameters![.., 0]);
        if (Contrast > 0)
            result = TransformFunctional.AdjustContrast(result, parameters![.., 1]);
        return (Select(applied, result, images), targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"ColorJitter(brightness={TransformGuard.Format(Brightness)}, contrast={TransformGuard.Format(Contrast)}, p={TransformGuard.Format(P)})";
}
