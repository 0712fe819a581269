using FashionVision.Models.Pruning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The compute-efficient network of the fast recipes: five 3×3 conv–BatchNorm–ReLU layers of widths w, 2w, 2w, 4w, 4w.
/// The first convolution runs at 28×28 and is max-pooled at once (before its BatchNorm and ReLU), so the network's work
/// happens at 14×14 (2w channels) and 7×7 (4w channels), where the convolutions are wide enough to run near the CPU's
/// matrix-multiply rate; a residual connection goes around each of the two same-width layers, and the head reads global
/// average and max pooling.
/// At the default width 24 it has 158k parameters and about 12.4 M multiply-adds per 28×28 image.
/// </summary>
/// <remarks>
/// The three widths (stem w, stage 1 2w, stage 2 4w) can also be given one by one (<c>channelWidths</c>, what
/// <see cref="ChannelPruner"/> produces): each residual connection ties the widening convolution's output to the residual
/// convolution's, so a stage has one width.
/// </remarks>
public sealed class FastCnn : ImageClassifier, IChannelPrunable
{
    /// <summary>The base width w the recipes use (<see cref="ModelOptions.Width"/> multiplies it in the zoo).</summary>
    public const int DefaultWidth = 24;

    private readonly Sequential stem;
    private readonly Sequential widen1;
    private readonly Sequential res1;
    private readonly Sequential widen2;
    private readonly Sequential res2;
    private readonly Dropout dropout;
    private Linear head;
    private readonly long _features;
    private readonly int[] _widths;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">The base width w (default <see cref="DefaultWidth"/>).</param>
    /// <param name="dropRate">Dropout before the head (default 0.1).</param>
    /// <param name="channelWidths">
    /// Explicit widths [stem, stage 1, stage 2] instead of [w, 2w, 4w] (null: derived from <paramref name="width"/>).
    /// </param>
    public FastCnn(int inputChannels = 1, int numClasses = 10, int width = DefaultWidth, double dropRate = 0.1, IReadOnlyList<int>? channelWidths = null)
        : base(nameof(FastCnn), inputChannels, numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        if (channelWidths is not null && (channelWidths.Count != 3 || channelWidths.Any(c => c < 1)))
            throw new ArgumentException("FastCnn takes three positive channel widths: stem, stage 1, stage 2.", nameof(channelWidths));
        DropRate = dropRate;
        _widths = channelWidths?.ToArray() ?? [width, 2 * width, 4 * width];
        long w0 = _widths[0], w1 = _widths[1], w2 = _widths[2];
        // The stem pools before its BatchNorm and ReLU, so those run on 14×14 maps: the same network function class
        // (max-pooling commutes with ReLU), a quarter of the element-wise work at full resolution.
        stem = nn.Sequential(nn.Conv2d(inputChannels, w0, 3, padding: 1, bias: false), nn.MaxPool2d(2), nn.BatchNorm2d(w0), nn.ReLU(inplace: true));
        widen1 = Block(w0, w1);
        res1 = Block(w1, w1);
        widen2 = nn.Sequential(nn.MaxPool2d(2), Block(w1, w2));
        res2 = Block(w2, w2);
        _features = 2 * w2;
        dropout = nn.Dropout(dropRate);
        head = nn.Linear(_features, numClasses);
        RegisterComponents();
    }

    private static Sequential Block(long input, long output) =>
        nn.Sequential(nn.Conv2d(input, output, 3, padding: 1, bias: false), nn.BatchNorm2d(output), nn.ReLU(inplace: true));

    /// <inheritdoc />
    public override Linear Classifier => head;

    /// <summary>The dropout probability before the head.</summary>
    public double DropRate { get; }

    /// <summary>The widths [stem, stage 1, stage 2].</summary>
    public IReadOnlyList<int> ChannelWidths => _widths;

    /// <inheritdoc />
    public IReadOnlyList<ChannelGroup> ChannelGroups() =>
    [
        new("stem", _widths[0], [new("stem.0", "stem.2")], [new("widen1.0.weight", 1)]),
        new("stage1", _widths[1], [new("widen1.0", "widen1.1"), new("res1.0", "res1.1")],
            [new("res1.0.weight", 1), new("widen2.1.0.weight", 1)]),
        // The head reads the average and then the max pooling of the same channels.
        new("stage2", _widths[2], [new("widen2.1.0", "widen2.1.1"), new("res2.0", "res2.1")],
            [new("res2.0.weight", 1), new("head.weight", 1, Repeats: 2)]),
    ];

    /// <inheritdoc />
    public ImageClassifier WithChannelWidths(IReadOnlyList<int> channelWidths) =>
        new FastCnn(InputChannels, NumClasses, dropRate: DropRate, channelWidths: channelWidths);

    /// <inheritdoc />
    public override bool SupportsBFloat16 => true;

    internal Sequential Stem => stem;
    internal Sequential Widen1 => widen1;
    internal Sequential Residual1 => res1;
    internal Sequential Widen2 => widen2;
    internal Sequential Residual2 => res2;
    internal Dropout Dropout => dropout;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var p = Precision;
        var x = MixedPrecision.Run(widen1, MixedPrecision.Run(stem, input, p), p);
        x = x.add(MixedPrecision.Run(res1, x, p));
        x = MixedPrecision.Run(widen2, x, p);
        x = x.add(MixedPrecision.Run(res2, x, p));
        return scope.MoveToOuter(x);
    }

    /// <inheritdoc />
    public override Tensor ForwardEmbedding(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = ConcatPooling.Apply(features);
        return scope.MoveToOuter(dropout.call(pooled));
    }

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        ValidateNumClasses(numClasses);
        head = nn.Linear(_features, numClasses);
        ReplaceSubmodule(nameof(head), head);
        NumClasses = numClasses;
    }
}
