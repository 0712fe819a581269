using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// A VGG-style CNN (Simonyan &amp; Zisserman 2015) sized for 28×28 inputs: three blocks of two 3×3 conv-BN-ReLU layers
/// (64, 128, 256 channels), each followed by max-pooling, then global average pooling, dropout and a linear layer.
/// </summary>
/// <remarks>
/// Structure (w = 64 × width; every convolution is Conv2d(…, 3, padding 1, no bias) → BatchNorm2d → ReLU):
/// <code>
/// Features: conv(C, w), conv(w, w), [attn], pool, conv(w, 2w), conv(2w, 2w), [attn], pool, conv(2w, 4w), conv(4w, 4w), [attn], pool   4w×3×3
/// head: AvgPool → flatten → Dropout → Fc     AdaptiveAvgPool2d(1), Dropout(0.5), Linear(4w, classes)
/// </code>
/// </remarks>
public sealed class VggCnn : GlobalPoolingClassifier
{
    private readonly Sequential features;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="dropRate">Dropout before the linear layer (0.5 by default).</param>
    /// <param name="width">Multiplier of the base widths 64, 128, 256.</param>
    /// <param name="attention">Attention at the end of each block, before pooling.</param>
    public VggCnn(int inputChannels = 1, int numClasses = 10, double dropRate = 0.5, double width = 1.0,
        AttentionKind attention = AttentionKind.None) : base(nameof(VggCnn), inputChannels, numClasses)
    {
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        Initialization.CheckWidth(width, nameof(width));
        long w = Initialization.Scale(64, width);
        features = ConvStack.Build(inputChannels, new[] { new[] { w, w }, new[] { 2 * w, 2 * w }, new[] { 4 * w, 4 * w } }, attention);
        RegisterComponents();
        AddHead(4 * w, dropRate);
        Initialization.HeNormal(this);
    }

    /// <summary>The convolution blocks (conv, bn, relu …, max-pool).</summary>
    public Sequential Features => features;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(features.call(input));
    }
}
