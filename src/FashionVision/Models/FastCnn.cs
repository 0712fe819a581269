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
public sealed class FastCnn : ImageClassifier
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

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">The base width w (default <see cref="DefaultWidth"/>).</param>
    /// <param name="dropRate">Dropout before the head (default 0.1).</param>
    public FastCnn(int inputChannels = 1, int numClasses = 10, int width = DefaultWidth, double dropRate = 0.1)
        : base(nameof(FastCnn), inputChannels, numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        long w = width;
        // The stem pools before its BatchNorm and ReLU, so those run on 14×14 maps: the same network function class
        // (max-pooling commutes with ReLU), a quarter of the element-wise work at full resolution.
        stem = nn.Sequential(nn.Conv2d(inputChannels, w, 3, padding: 1, bias: false), nn.MaxPool2d(2), nn.BatchNorm2d(w), nn.ReLU(inplace: true));
        widen1 = Block(w, 2 * w);
        res1 = Block(2 * w, 2 * w);
        widen2 = nn.Sequential(nn.MaxPool2d(2), Block(2 * w, 4 * w));
        res2 = Block(4 * w, 4 * w);
        _features = 8 * w;
        dropout = nn.Dropout(dropRate);
        head = nn.Linear(_features, numClasses);
        RegisterComponents();
    }

    private static Sequential Block(long input, long output) =>
        nn.Sequential(nn.Conv2d(input, output, 3, padding: 1, bias: false), nn.BatchNorm2d(output), nn.ReLU(inplace: true));

    /// <inheritdoc />
    public override Linear Classifier => head;

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
        var pooled = MixedPrecision.ToFloat32(cat(new[] { features.mean(new long[] { 2, 3 }), features.amax(new long[] { 2, 3 }) }, 1));
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
