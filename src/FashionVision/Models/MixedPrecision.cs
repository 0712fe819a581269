using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Runs layers in a <see cref="ComputePrecision"/>: a convolution under <see cref="ComputePrecision.BFloat16"/> multiplies
/// bfloat16 casts of its input and of its float32 weight, so gradients flow back into the float32 weight through the cast
/// and the optimizer, EMA and checkpoints never see a bfloat16 tensor. Models that support bfloat16 call these instead of
/// <c>conv.call(x)</c>.
/// </summary>
public static class MixedPrecision
{
    /// <summary>
    /// Convolutions with fewer input channels than this stay float32 under bfloat16: a 1- or 3-channel stem has too little
    /// arithmetic to gain, and oneDNN's bfloat16 weight gradient for it is slower than float32.
    /// </summary>
    public const int MinBFloat16InputChannels = 8;

    /// <summary>Whether <paramref name="conv"/> computes in bfloat16 under <paramref name="precision"/>.</summary>
    public static bool UsesBFloat16(Conv2d conv, ComputePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(conv);
        return precision == ComputePrecision.BFloat16 && conv.in_channels >= MinBFloat16InputChannels;
    }

    /// <summary>Applies <paramref name="conv"/> to <paramref name="input"/> in <paramref name="precision"/>.</summary>
    /// <remarks>Under bfloat16 the output is bfloat16; a float32 convolution casts a bfloat16 input up first.</remarks>
    public static Tensor Conv(Conv2d conv, Tensor input, ComputePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!UsesBFloat16(conv, precision))
            return conv.call(input.dtype == conv.weight.dtype ? input : input.to_type(conv.weight.dtype));
        if (conv.padding_mode != PaddingModes.Zeros || conv.padding_type is not null)
            throw new NotSupportedException($"bfloat16 compute supports zero-padded convolutions with explicit padding only (got {conv.padding_mode}).");
        using var scope = NewDisposeScope();
        var output = nn.functional.conv2d(
            input.to_type(ScalarType.BFloat16),
            conv.weight.to_type(ScalarType.BFloat16),
            conv.bias?.to_type(ScalarType.BFloat16),
            conv.stride, conv.padding, conv.dilation, conv.groups);
        return scope.MoveToOuter(output);
    }

    /// <summary>
    /// Runs the layers of <paramref name="layers"/> in order: convolutions in <paramref name="precision"/>, 2×2 max-pooling
    /// through <see cref="MaxPool2x2"/> when no gradient is needed, the rest through their own <c>call</c> (so hooks fire).
    /// </summary>
    public static Tensor Run(Sequential layers, Tensor input, ComputePrecision precision)
    {
        ArgumentNullException.ThrowIfNull(layers);
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var layer in layers.children())
        {
            x = layer switch
            {
                Conv2d conv => Conv(conv, x, precision),
                MaxPool2d pool when IsPlain2x2(pool) && x.dim() == 4 && x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0 && !NeedsGradient(x) => MaxPool2x2(x),
                Sequential inner => Run(inner, x, precision),
                nn.Module<Tensor, Tensor> module => module.call(x),
                _ => throw new NotSupportedException($"Cannot run a {layer.GetType().Name} inside a Sequential."),
            };
        }
        return scope.MoveToOuter(x);
    }

    /// <summary>
    /// 2×2 max-pooling with stride 2 as two element-wise maxima over strided views: the same values as
    /// <c>max_pool2d(x, 2)</c>, several times faster on the CPU (libtorch's NCHW pooling kernel tracks indices and does
    /// not vectorise), but without a gradient: use it where none is needed (inference, or a frozen first layer).
    /// </summary>
    /// <exception cref="ArgumentException">The input is not N×C×H×W with even H and W.</exception>
    public static Tensor MaxPool2x2(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[2] % 2 != 0 || input.shape[3] % 2 != 0)
            throw new ArgumentException($"MaxPool2x2 needs N×C×H×W with even H and W, got [{string.Join(", ", input.shape)}].", nameof(input));
        long n = input.shape[0], c = input.shape[1], h = input.shape[2] / 2, w = input.shape[3] / 2;
        using var scope = NewDisposeScope();
        var v = input.view(n, c, h, 2, w, 2);
        var rows = maximum(v.select(3, 0), v.select(3, 1));
        return scope.MoveToOuter(maximum(rows.select(4, 0), rows.select(4, 1)));
    }

    private static bool IsPlain2x2(MaxPool2d pool) =>
        pool.kernel_size.All(k => k == 2) && (pool.stride is null || pool.stride.All(s => s == 2))
        && (pool.padding is null || pool.padding.All(p => p == 0)) && (pool.dilation is null || pool.dilation.All(d => d == 1));

    private static bool NeedsGradient(Tensor x) => x.requires_grad && is_grad_enabled();

    /// <summary>Casts a bfloat16 tensor back to float32 (e.g. features entering a float32 head); float32 passes through.</summary>
    public static Tensor ToFloat32(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.dtype == ScalarType.BFloat16 ? input.to_type(ScalarType.Float32) : input.alias();
    }
}
