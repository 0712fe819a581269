using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// ResNet with <see cref="BasicBlock"/>s (He et al., CVPR 2016): ResNet-18 with <c>[2, 2, 2, 2]</c> blocks, with either the
/// ImageNet stem — whose parameter names and shapes are exactly those of torchvision's <c>resnet18</c>, so its weights load
/// — or a native stem for 28×28 inputs.
/// </summary>
/// <remarks>
/// Structure (width w = 64 × <c>width</c>):
/// <code>
/// Conv1 → Bn1 → Relu        ImageNet: Conv2d(C, w, 7, stride 2, padding 3, no bias); Native: Conv2d(C, w, 3, padding 1, no bias)
/// MaxPool                   ImageNet only: MaxPool2d(3, stride 2, padding 1)
/// Layer1 … Layer4           Sequential of BasicBlock: w, 2w (stride 2), 4w (stride 2), 8w (stride 2)
/// head: AvgPool → flatten → Dropout → Fc     AdaptiveAvgPool2d(1), Linear(8w, classes)
/// </code>
/// State-dict names: <c>conv1, bn1, layer1.0.conv1, …, layer4.1.bn2, fc</c> (with <c>attention</c> inside blocks for SE/CBAM).
/// </remarks>
public sealed class ResNet : GlobalPoolingClassifier
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d? maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;

    /// <summary>Creates the network.</summary>
    /// <param name="blocksPerStage">Blocks in each of the four stages (<c>[2, 2, 2, 2]</c> for ResNet-18, <c>[3, 4, 6, 3]</c> for ResNet-34).</param>
    /// <param name="stem">Which stem.</param>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">Multiplier of the base width 64.</param>
    /// <param name="attention">Attention inside every block.</param>
    /// <param name="dropRate">Dropout before the final linear layer.</param>
    public ResNet(IReadOnlyList<int> blocksPerStage, ResNetStem stem = ResNetStem.Native, int inputChannels = 1, int numClasses = 10,
        double width = 1.0, AttentionKind attention = AttentionKind.None, double dropRate = 0.0)
        : base(nameof(ResNet), inputChannels, numClasses)
    {
        ArgumentNullException.ThrowIfNull(blocksPerStage);
        if (blocksPerStage.Count != 4 || blocksPerStage.Any(b => b <= 0))
            throw new ArgumentException("A ResNet needs four stages of at least one block each.", nameof(blocksPerStage));
        Initialization.CheckWidth(width, nameof(width));
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        Stem = stem;
        Attention = attention;
        long w = Initialization.Scale(64, width);
        conv1 = stem == ResNetStem.ImageNet
            ? nn.Conv2d(inputChannels, w, 7, stride: 2, padding: 3, bias: false)
            : nn.Conv2d(inputChannels, w, 3, stride: 1, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(w);
        relu = nn.ReLU();
        if (stem == ResNetStem.ImageNet)
            maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        long inChannels = w;
        layer1 = MakeStage(ref inChannels, w, blocksPerStage[0], 1, attention);
        layer2 = MakeStage(ref inChannels, 2 * w, blocksPerStage[1], 2, attention);
        layer3 = MakeStage(ref inChannels, 4 * w, blocksPerStage[2], 2, attention);
        layer4 = MakeStage(ref inChannels, 8 * w, blocksPerStage[3], 2, attention);
        RegisterComponents();
        AddHead(inChannels, dropRate);
        Initialization.HeNormal(this);
    }

    private static Sequential MakeStage(ref long inChannels, long planes, int blocks, long stride, AttentionKind attention)
    {
        var stage = nn.Sequential();
        for (int i = 0; i < blocks; i++)
        {
            stage.append(new BasicBlock(inChannels, planes, i == 0 ? stride : 1, attention));
            inChannels = planes;
        }
        return stage;
    }

    /// <summary>Which stem the network has.</summary>
    public ResNetStem Stem { get; }

    /// <summary>The attention inside every block.</summary>
    public AttentionKind Attention { get; }

    /// <summary>The stem convolution.</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>BatchNorm after the stem convolution.</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>The stem's ReLU.</summary>
    public ReLU Relu => relu;

    /// <summary>The stem's max-pool (ImageNet stem only), or null.</summary>
    public MaxPool2d? MaxPool => maxpool;

    /// <summary>Stage 1 (full width, stride 1).</summary>
    public Sequential Layer1 => layer1;

    /// <summary>Stage 2 (2× width, stride 2).</summary>
    public Sequential Layer2 => layer2;

    /// <summary>Stage 3 (4× width, stride 2).</summary>
    public Sequential Layer3 => layer3;

    /// <summary>Stage 4 (8× width, stride 2).</summary>
    public Sequential Layer4 => layer4;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = relu.call(bn1.call(conv1.call(input)));
        if (maxpool is not null)
            x = maxpool.call(x);
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        return scope.MoveToOuter(x);
    }
}
