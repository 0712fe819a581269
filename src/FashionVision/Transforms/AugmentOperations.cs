using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// The one kernel behind <see cref="TrivialAugment"/>, <see cref="RandAugment"/> and <see cref="AutoAugment"/>: applies a
/// per-sample <see cref="AugmentOperation"/> with its magnitude and sign to a batch. All geometric choices share one
/// resampling; each photometric operation is evaluated over the batch and selected per sample.
/// </summary>
internal static class AugmentOperations
{
    /// <summary>The operations, in enum order (the order policies draw their indices in).</summary>
    public static readonly AugmentOperation[] All = Enum.GetValues<AugmentOperation>();

    /// <summary>Applies one operation per sample.</summary>
    /// <param name="images">Float images N×C×H×W in [0, 1].</param>
    /// <param name="operation">The operation of each sample (int64 N, <see cref="AugmentOperation"/> values).</param>
    /// <param name="magnitude">The magnitude of each sample in [0, 1] (N).</param>
    /// <param name="sign">±1 per sample for the signed operations (N).</param>
    /// <param name="applied">Boolean N: samples left out keep their pixels exactly.</param>
    /// <param name="ranges">How strong each operation is at magnitude 1.</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    public static Tensor Apply(Tensor images, Tensor operation, Tensor magnitude, Tensor sign, Tensor applied, AugmentationRanges ranges, double fill)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], h = images.shape[2], w = images.shape[3];
        var m = magnitude.to(images.dtype);
        var signed = m * sign.to(images.dtype);
        Tensor Is(AugmentOperation o) => operation.eq((long)o).logical_and(applied);
        Tensor Where(AugmentOperation o, Tensor value) => where(Is(o), value, zeros_like(value));
        Tensor Select(Tensor selected, Tensor transformed, Tensor original) => where(selected.view(-1, 1, 1, 1), transformed, original);

        var degrees = 180 / Math.PI;
        var matrices = TransformFunctional.AffineMatrix(
            Where(AugmentOperation.Rotate, signed * ranges.MaxRotation),
            Where(AugmentOperation.TranslateX, signed * (ranges.MaxTranslate * w)),
            Where(AugmentOperation.TranslateY, signed * (ranges.MaxTranslate * h)),
            ones(n, dtype: images.dtype, device: images.device),
            Where(AugmentOperation.ShearX, (signed * ranges.MaxShear).atan() * degrees),
            Where(AugmentOperation.ShearY, (signed * ranges.MaxShear).atan() * degrees));
        var geometric = Is(AugmentOperation.Rotate).logical_or(Is(AugmentOperation.TranslateX)).logical_or(Is(AugmentOperation.TranslateY))
            .logical_or(Is(AugmentOperation.ShearX)).logical_or(Is(AugmentOperation.ShearY));
        var result = Select(geometric, TransformFunctional.AffineWarp(images, matrices, fill), images);

        var factor = 1 + signed * ranges.MaxEnhance;
        result = Select(Is(AugmentOperation.Brightness), TransformFunctional.AdjustBrightness(images, factor), result);
        result = Select(Is(AugmentOperation.Contrast), TransformFunctional.AdjustContrast(images, factor), result);
        result = Select(Is(AugmentOperation.Sharpness), TransformFunctional.AdjustSharpness(images, factor), result);
        result = Select(Is(AugmentOperation.Posterize), TransformFunctional.Posterize(images, (8 - m * ranges.MaxPosterizeBits).round()), result);
        result = Select(Is(AugmentOperation.Solarize), TransformFunctional.Solarize(images, 1 - m), result);
        result = Select(Is(AugmentOperation.AutoContrast), TransformFunctional.AutoContrast(images), result);
        return scope.MoveToOuter(result);
    }

    /// <summary>Draws uniform random signs ±1 from uniforms in [0, 1).</summary>
    public static Tensor Signs(Tensor uniform) => where(uniform.lt(0.5), -1.0, 1.0).to(uniform.dtype);
}
