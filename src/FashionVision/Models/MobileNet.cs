using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// A MobileNet-style network (Howard et al. 2017) for 28×28 inputs: a 3×3 stem and seven
/// <see cref="DepthwiseSeparableConv"/> blocks, small and fast for deployment.
/// </summary>
/// <remarks>
/// Structure (α = width; widths are rounded 32α, 64α, … 512α):
/// <code>
/// Conv1 → Bn1 → Relu        Conv2d(C, 32α, 3, padding 1, no bias), BatchNorm2d, ReLU               32α×28×28
/// Blocks                    DepthwiseSeparableConv: 64α, 128α (stride 2), 128α, 256α (stride 2), 256α, 512α (stride 2), 512α   512α×4×4
/// head: AvgPool → flatten → Dropout → Fc     AdaptiveAvgPool2d(1), Dropout, Linear(512α, classes)
/// </code>
/// </remarks>
public sealed class MobileNet : GlobalPoolingClassifier
{
    private static readonly (long Channels, long Stride)[] Plan =
        { (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1) };

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly Sequential blocks;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">Width multiplier α.</param>
    /// <param name="dropRate">Dropout before the linear layer.</param>
    /// <param name="attention">Attention after every depthwise-separable block.</param>
    public MobileNet(int inputChannels = 1, int numClasses = 10, double width = 1.0, double dropRate = 0.0,
        AttentionKind attention = AttentionKind.None) : base(nameof(MobileNet), inputChannels, numClasses)
    {
        Initialization.CheckWidth(width, nameof(width));
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        long stem = Initialization.Scale(32, width);
        conv1 = nn.Conv2d(inputChannels, stem, 3, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(stem);
        relu = nn.ReLU();
        blocks = nn.Sequential();
        long inChannels = stem;
        foreach (var (channels, stride) in Plan)
        {
            long outChannels = Initialization.Scale(channels, width);
            blocks.append(new DepthwiseSeparableConv(inChannels, outChannels, stride, attention));
            inChannels = outChannels;
        }
        RegisterComponents();
        AddHead(inChannels, dropRate);
        Initialization.HeNormal(this);
    }

    /// <summary>The stem convolution.</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>BatchNorm after the stem.</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>The stem's ReLU.</summary>
    public ReLU Relu => relu;

    /// <summary>The depthwise-separable blocks.</summary>
    public Sequential Blocks => blocks;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(blocks.call(relu.call(bn1.call(conv1.call(input)))));
    }
}
