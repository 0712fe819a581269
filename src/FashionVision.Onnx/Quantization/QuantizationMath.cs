namespace FashionVision.Onnx;

/// <summary>
/// The quantization arithmetic shared by the QDQ rewrite and quantization-aware training, so the scales a model trains
/// with are the ones written into its file: per-channel symmetric int8 weights (scale = max |w| / m, values in ±m, where m is
/// the target's <see cref="Int8TargetChoice.WeightMax"/>: 127, or 63 where the kernels could saturate) and
/// per-tensor affine activations (scale = (max − min) / (qmax − qmin), zero point = round(qmin − min / scale)).
/// </summary>
internal static class QuantizationMath
{
    /// <summary>The integer range of an activation type: [0, 255] for uint8, [−128, 127] for int8.</summary>
    public static (int Min, int Max) ActivationLimits(ActivationQuantizationType type) =>
        type == ActivationQuantizationType.UInt8 ? (0, 255) : (-128, 127);

    /// <summary>The scale and zero point that map the range [min, max] (which includes 0) onto the activation type.</summary>
    public static (float Scale, int ZeroPoint) ActivationParameters(float min, float max, ActivationQuantizationType type)
    {
        var (qmin, qmax) = ActivationLimits(type);
        var scale = (max - min) / (qmax - qmin);
        if (!(scale > 0)) return (1f, 0);
        var zeroPoint = (int)Math.Clamp(Math.Round(qmin - min / scale), qmin, qmax);
        return (scale, zeroPoint);
    }

    /// <summary>
    /// The scale of one output channel of weights whose largest magnitude is <paramref name="maxAbs"/>, quantized to
    /// ±<paramref name="weightMax"/> (1 for an all-zero channel).
    /// </summary>
    public static float WeightScale(float maxAbs, int weightMax) => maxAbs > 0 ? maxAbs / weightMax : 1f;
}
