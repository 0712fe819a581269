using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// Fake quantization with a straight-through estimator: the forward pass returns exactly what ONNX Runtime's
/// QuantizeLinear → DequantizeLinear returns (round half to even, saturate, rescale), the backward pass lets the gradient
/// through unchanged inside the representable range and stops it outside (the "clipped" estimator of Jacob et al. 2018 and
/// PyTorch's FakeQuantize). TorchSharp 0.107 declares <c>torch.fake_quantize_per_tensor_affine</c> but marks it "not
/// implemented", so it is built here from <c>round</c>, <c>clamp</c> and <c>x + (q − x).detach()</c>.
/// </summary>
internal static class FakeQuantization
{
    /// <summary>Per-tensor affine fake quantization of an activation with a frozen scale and zero point.</summary>
    public static Tensor Activation(Tensor x, float scale, int zeroPoint, (int Min, int Max) limits)
    {
        using var scope = NewDisposeScope();
        float low = (limits.Min - zeroPoint) * scale, high = (limits.Max - zeroPoint) * scale;
        var clamped = x.clamp(low, high);
        var quantized = x.detach().div(scale).round().add(zeroPoint).clamp(limits.Min, limits.Max).sub(zeroPoint).mul(scale);
        return scope.MoveToOuter(clamped + (quantized - clamped).detach());
    }

    /// <summary>
    /// Per-channel symmetric int8 fake quantization of a weight along <paramref name="axis"/> (scale = max |w| /
    /// <paramref name="weightMax"/> of each channel, computed from the current weight as the QDQ export does); returns the
    /// quantized weight and the scales.
    /// </summary>
    public static (Tensor Weight, Tensor Scales) Weight(Tensor weight, int axis, int weightMax)
    {
        using var scope = NewDisposeScope();
        var channels = weight.shape[axis];
        var maxAbs = weight.detach().abs().transpose(0, axis).reshape(channels, -1).amax([1]);
        var scales = where(maxAbs > 0, maxAbs / weightMax, ones_like(maxAbs));
        var shape = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
        shape[axis] = channels;
        var broadcast = scales.reshape(shape);
        var quantized = weight.detach().div(broadcast).round().clamp(-weightMax, weightMax).mul(broadcast);
        var result = weight + (quantized - weight).detach();
        return (scope.MoveToOuter(result), scope.MoveToOuter(scales));
    }

    /// <summary>Fake quantization of a bias to int32 at scale input scale × weight scale (per output channel), as the QDQ export stores it.</summary>
    public static Tensor Bias(Tensor bias, float inputScale, Tensor weightScales)
    {
        using var scope = NewDisposeScope();
        var scales = weightScales.mul(inputScale);
        var quantized = bias.detach().to(float64).div(scales.to(float64)).round().to(float32).mul(scales);
        return scope.MoveToOuter(bias + (quantized - bias).detach());
    }
}
