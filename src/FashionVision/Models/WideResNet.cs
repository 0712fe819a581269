using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Wide ResNet WRN-d-k (Zagoruyko &amp; Komodakis, BMVC 2016): three stages of (d − 4) / 6 pre-activation
/// <see cref="WideBasicBlock"/>s of widths 16k, 32k, 64k, the top of the Fashion-MNIST tables.
/// </summary>
/// <remarks>
/// Structure:
/// <code>
/// Conv1                       Conv2d(C, 16, 3, padding 1, no bias)
/// Block1, Block2, Block3      Sequential of WideBasicBlock: 16k (stride 1), 32k (stride 2), 64k (stride 2); dropout inside
/// Bn1 → Relu                  BatchNorm2d(64k), ReLU (the blocks are pre-activation, so the features end here)
/// head: AvgPool → flatten → Fc    AdaptiveAvgPool2d(1), Linear(64k, classes) (the shared head's dropout is 0)
/// </code>
/// A 28×28 input ends as a 7×7 map.
/// </remarks>
public sealed class WideResNet : GlobalPoolingClassifier
{
    private readonly Conv2d conv1;
    private readonly Sequential block1;
    private readonly Sequential block2;
    private readonly Sequential block3;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;

    /// <summary>Creates the network.</summary>
    /// <param name="depth">Depth d; d − 4 must be divisible by 6 (16, 22, 28, 40 …).</param>
    /// <param name="widenFactor">Widening factor k (may be fractional; widths are rounded).</param>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="dropRate">Dropout between the convolutions of every block (0.3 in the paper).</param>
    /// <param name="attention">Attention inside every block.</param>
    public WideResNet(int depth, double widenFactor, int inputChannels = 1, int numClasses = 10, double dropRate = 0.0,
        AttentionKind attention = AttentionKind.None) : base(nameof(WideResNet), inputChannels, numClasses)
    {
        if (depth < 10 || (depth - 4) % 6 != 0)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "The depth d of WRN-d-k must satisfy (d - 4) % 6 == 0 and d >= 10.");
        Initialization.CheckWidth(widenFactor, nameof(widenFactor));
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        Depth = depth;
        WidenFactor = widenFactor;
        BlocksPerStage = (depth - 4) / 6;
        long[] widths = { 16, Initialization.Scale(16, widenFactor), Initialization.Scale(32, widenFactor), Initialization.Scale(64, widenFactor) };
        conv1 = nn.Conv2d(inputChannels, widths[0], 3, padding: 1, bias: false);
        block1 = MakeStage(widths[0], widths[1], 1, dropRate, attention);
        block2 = MakeStage(widths[1], widths[2], 2, dropRate, attention);
        block3 = MakeStage(widths[2], widths[3], 2, dropRate, attention);
        bn1 = nn.BatchNorm2d(widths[3]);
        relu = nn.ReLU();
        RegisterComponents();
        AddHead(widths[3], dropRate: 0.0);
        Initialization.HeNormal(this);
        using (no_grad())
            Classifier.bias!.zero_();
    }

    private Sequential MakeStage(long inChannels, long outChannels, long stride, double dropRate, AttentionKind attention)
    {
        var stage = nn.Sequential();
        for (int i = 0; i < BlocksPerStage; i++)
            stage.append(new WideBasicBlock(i == 0 ? inChannels : outChannels, outChannels, i == 0 ? stride : 1, dropRate, attention));
        return stage;
    }

    /// <summary>Depth d.</summary>
    public int Depth { get; }

    /// <summary>Widening factor k.</summary>
    public double WidenFactor { get; }

    /// <summary>Blocks per stage, (d − 4) / 6.</summary>
    public int BlocksPerStage { get; }

    /// <summary>The stem convolution (16 channels).</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>Stage 1 (16k channels, stride 1).</summary>
    public Sequential Block1 => block1;

    /// <summary>Stage 2 (32k channels, stride 2).</summary>
    public Sequential Block2 => block2;

    /// <summary>Stage 3 (64k channels, stride 2).</summary>
    public Sequential Block3 => block3;

    /// <summary>The final BatchNorm of the pre-activation network.</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>The final ReLU.</summary>
    public ReLU Relu => relu;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = block3.call(block2.call(block1.call(conv1.call(input))));
        return scope.MoveToOuter(relu.call(bn1.call(x)));
    }
}
