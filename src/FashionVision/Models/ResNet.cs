using FashionVision.Models.Pruning;
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
/// <para>Widths can also be given one by one (<c>channelWidths</c>, what <see cref="ChannelPruner"/> produces): first the
/// four stage widths (the stem's output is tied to stage 1 by its identity shortcuts, and within a stage every block's output
/// is tied to the next by the residual additions), then the inner width of every block (between its two convolutions), stage
/// by stage, 4 + 8 values for ResNet-18.</para>
/// </remarks>
public sealed class ResNet : GlobalPoolingClassifier, IChannelPrunable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d? maxpool;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly int[] _widths;

    /// <summary>Creates the network.</summary>
    /// <param name="blocksPerStage">Blocks in each of the four stages (<c>[2, 2, 2, 2]</c> for ResNet-18, <c>[3, 4, 6, 3]</c> for ResNet-34).</param>
    /// <param name="stem">Which stem.</param>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">Multiplier of the base width 64.</param>
    /// <param name="attention">Attention inside every block.</param>
    /// <param name="dropRate">Dropout before the final linear layer.</param>
    /// <param name="channelWidths">
    /// Explicit widths instead of those <paramref name="width"/> derives: the four stage widths, then one inner width per
    /// block (null: stage widths 64w, 128w, 256w, 512w and inner widths equal to their stage's).
    /// </param>
    public ResNet(IReadOnlyList<int> blocksPerStage, ResNetStem stem = ResNetStem.Native, int inputChannels = 1, int numClasses = 10,
        double width = 1.0, AttentionKind attention = AttentionKind.None, double dropRate = 0.0, IReadOnlyList<int>? channelWidths = null)
        : base(nameof(ResNet), inputChannels, numClasses)
    {
        ArgumentNullException.ThrowIfNull(blocksPerStage);
        if (blocksPerStage.Count != 4 || blocksPerStage.Any(b => b <= 0))
            throw new ArgumentException("A ResNet needs four stages of at least one block each.", nameof(blocksPerStage));
        Initialization.CheckWidth(width, nameof(width));
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        int blocks = blocksPerStage.Sum();
        if (channelWidths is not null && (channelWidths.Count != 4 + blocks || channelWidths.Any(c => c < 1)))
            throw new ArgumentException($"This ResNet takes {4 + blocks} positive channel widths: four stage widths, then one inner width per block.", nameof(channelWidths));
        Stem = stem;
        Attention = attention;
        BlocksPerStage = blocksPerStage.ToArray();
        DropRate = dropRate;
        long w = Initialization.Scale(64, width);
        _widths = channelWidths?.ToArray() ?? DefaultWidths(blocksPerStage, w);
        long stemWidth = _widths[0];
        conv1 = stem == ResNetStem.ImageNet
            ? nn.Conv2d(inputChannels, stemWidth, 7, stride: 2, padding: 3, bias: false)
            : nn.Conv2d(inputChannels, stemWidth, 3, stride: 1, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(stemWidth);
        relu = nn.ReLU();
        if (stem == ResNetStem.ImageNet)
            maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        long inChannels = stemWidth;
        int inner = 4;
        var stages = new Sequential[4];
        for (int s = 0; s < 4; s++)
        {
            stages[s] = MakeStage(ref inChannels, _widths[s], _widths.AsSpan(inner, blocksPerStage[s]), s == 0 ? 1 : 2, attention);
            inner += blocksPerStage[s];
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        RegisterComponents();
        AddHead(inChannels, dropRate);
        Initialization.HeNormal(this);
    }

    private static int[] DefaultWidths(IReadOnlyList<int> blocksPerStage, long w)
    {
        int[] stages = [(int)w, (int)(2 * w), (int)(4 * w), (int)(8 * w)];
        return stages.Concat(blocksPerStage.SelectMany((b, s) => Enumerable.Repeat(stages[s], b))).ToArray();
    }

    private static Sequential MakeStage(ref long inChannels, long planes, ReadOnlySpan<int> innerWidths, long stride, AttentionKind attention)
    {
        var stage = nn.Sequential();
        for (int i = 0; i < innerWidths.Length; i++)
        {
            stage.append(new BasicBlock(inChannels, planes, i == 0 ? stride : 1, attention, innerWidths[i]));
            inChannels = planes;
        }
        return stage;
    }

    /// <summary>Which stem the network has.</summary>
    public ResNetStem Stem { get; }

    /// <summary>The attention inside every block.</summary>
    public AttentionKind Attention { get; }

    /// <summary>Blocks in each of the four stages.</summary>
    public IReadOnlyList<int> BlocksPerStage { get; }

    /// <summary>The dropout probability before the final linear layer.</summary>
    public double DropRate { get; }

    /// <summary>The widths: the four stages, then the inner width of every block (see the remarks).</summary>
    public IReadOnlyList<int> ChannelWidths => _widths;

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The blocks carry attention, whose bottleneck widths follow the channel count.</exception>
    public IReadOnlyList<ChannelGroup> ChannelGroups()
    {
        if (Attention != AttentionKind.None)
            throw new NotSupportedException($"A ResNet with {Attention} attention cannot be pruned: the attention's bottleneck width is derived from the channel count.");
        var stages = new[] { layer1, layer2, layer3, layer4 };
        var producers = Enumerable.Range(0, 4).Select(_ => new List<ChannelProducer>()).ToArray();
        var consumers = Enumerable.Range(0, 4).Select(_ => new List<ChannelSlice>()).ToArray();
        var innerGroups = new List<ChannelGroup>();
        producers[0].Add(new ChannelProducer("conv1", "bn1"));
        for (int s = 0; s < 4; s++)
        {
            var blocks = stages[s].children().Cast<BasicBlock>().ToArray();
            for (int b = 0; b < blocks.Length; b++)
            {
                string prefix = $"layer{s + 1}.{b}";
                // A stage's first block reads the previous stage's channels (the stem's, which are stage 1's, for stage 1).
                int input = b > 0 ? s : Math.Max(s - 1, 0);
                consumers[input].Add(new ChannelSlice($"{prefix}.conv1.weight", 1));
                producers[s].Add(new ChannelProducer($"{prefix}.conv2", $"{prefix}.bn2"));
                if (blocks[b].Downsample is not null)
                {
                    consumers[input].Add(new ChannelSlice($"{prefix}.downsample.0.weight", 1));
                    producers[s].Add(new ChannelProducer($"{prefix}.downsample.0", $"{prefix}.downsample.1"));
                }
                innerGroups.Add(new ChannelGroup(prefix, (int)blocks[b].InnerChannels,
                    [new ChannelProducer($"{prefix}.conv1", $"{prefix}.bn1")], [new ChannelSlice($"{prefix}.conv2.weight", 1)]));
            }
        }
        consumers[3].Add(new ChannelSlice("fc.weight", 1));
        return Enumerable.Range(0, 4).Select(s => new ChannelGroup($"stage{s + 1}", _widths[s], producers[s], consumers[s]))
            .Concat(innerGroups).ToList();
    }

    /// <inheritdoc />
    public ImageClassifier WithChannelWidths(IReadOnlyList<int> channelWidths) =>
        new ResNet(BlocksPerStage, Stem, InputChannels, NumClasses, 1.0, Attention, DropRate, channelWidths);
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
