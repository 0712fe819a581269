using FashionVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// The compute-efficient network of the fast recipes: five 3×3 conv–BatchNorm–ReLU layers (widths w, 2w, 2w, 4w, 4w with
/// max-pooling to 14×14 and 7×7), a residual connection around each of the two same-width layers, global average and
/// max pooling, and a linear head. Most of its work happens at 14×14 and 7×7, so it trains at several hundred images
/// per second on two CPU cores.
/// </summary>
public sealed class FastCnn : ImageClassifier
{
    private readonly Sequential stem;
    private readonly Sequential down1;
    private readonly Sequential res1;
    private readonly Sequential down2;
    private readonly Sequential res2;
    private readonly Dropout dropout;
    private Linear head;
    private readonly long _features;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">The base width w (default 16).</param>
    /// <param name="dropRate">Dropout before the head (default 0.1).</param>
    public FastCnn(int inputChannels = 1, int numClasses = 10, int width = 16, double dropRate = 0.1)
        : base(nameof(FastCnn), inputChannels, numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        if (!(dropRate >= 0 && dropRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropRate), dropRate, "The drop rate must be in [0, 1).");
        long w = width;
        stem = Block(inputChannels, w);
        down1 = nn.Sequential(Block(w, 2 * w), nn.MaxPool2d(2));
        res1 = Block(2 * w, 2 * w);
        down2 = nn.Sequential(Block(2 * w, 4 * w), nn.MaxPool2d(2));
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
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = down1.forward(stem.forward(input));
        x = x.add(res1.forward(x));
        x = down2.forward(x);
        x = x.add(res2.forward(x));
        return scope.MoveToOuter(x);
    }

    /// <inheritdoc />
    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = cat(new[] { features.mean(new long[] { 2, 3 }), features.amax(new long[] { 2, 3 }) }, 1);
        return scope.MoveToOuter(head.forward(dropout.forward(pooled)));
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
