using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// <see cref="FastCnn"/>'s layout made deeper for the accuracy recipes: the same stem (a 3×3 convolution at 28×28
/// max-pooled at once to 14×14) and the same two stages at 14×14 (2w channels) and 7×7 (4w channels), each with
/// <c>blocks</c> residual blocks of two 3×3 convolutions (conv-BN-ReLU-conv-BN, added to the input, then ReLU) instead of
/// FastCnn's one residual convolution; the head reads global average and max pooling.
/// </summary>
/// <remarks>
/// All the work stays at 14×14 and 7×7, where convolutions run near the CPU's matrix-multiply rate, and every convolution
/// after the stem can compute in bfloat16. At width 32 with two blocks a stage it has about 65 M multiply-adds per image
/// (5× FastCnn), 1.3 M parameters.
/// </remarks>
public sealed class FastResNet : ImageClassifier
{
    private readonly Sequential stem;
    private readonly Sequential widen1;
    private readonly ModuleList<Sequential> stage1;
    private readonly Sequential widen2;
    private readonly ModuleList<Sequential> stage2;
    private readonly ReLU relu;
    private readonly Dropout dropout;
    private Linear head;
    private readonly long _features;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="width">The base width w (stem w, stages 2w and 4w; default 32).</param>
    /// <param name="blocks">Residual blocks per stage (default 2).</param>
    /// <param name="dropRate">Dropout before the head (default 0.1).</param>
    public FastResNet(int inputChannels = 1, int numClasses = 10, int width = 32, int blocks = 2, double dropRate = 0.1)
        : base(nameof(FastResNet), inputChannels, numClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        if (!(dropRate >= 0 && dropRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropRate), dropRate, "The drop rate must be in [0, 1).");
        long w = width;
        stem = nn.Sequential(nn.Conv2d(inputChannels, w, 3, padding: 1, bias: false), nn.MaxPool2d(2), nn.BatchNorm2d(w), nn.ReLU(inplace: true));
        widen1 = ConvBnRelu(w, 2 * w);
        stage1 = new ModuleList<Sequential>(Enumerable.Range(0, blocks).Select(_ => Branch(2 * w)).ToArray());
        widen2 = nn.Sequential(nn.MaxPool2d(2), ConvBnRelu(2 * w, 4 * w));
        stage2 = new ModuleList<Sequential>(Enumerable.Range(0, blocks).Select(_ => Branch(4 * w)).ToArray());
        relu = nn.ReLU();
        _features = 8 * w;
        dropout = nn.Dropout(dropRate);
        head = nn.Linear(_features, numClasses);
        Width = width;
        Blocks = blocks;
        RegisterComponents();
        Initialization.HeNormal(this);
    }

    private static Sequential ConvBnRelu(long input, long output) =>
        nn.Sequential(nn.Conv2d(input, output, 3, padding: 1, bias: false), nn.BatchNorm2d(output), nn.ReLU(inplace: true));

    // The residual branch: conv-BN-ReLU-conv-BN; the block adds it to its input and applies ReLU.
    private static Sequential Branch(long channels) =>
        nn.Sequential(nn.Conv2d(channels, channels, 3, padding: 1, bias: false), nn.BatchNorm2d(channels), nn.ReLU(inplace: true),
                      nn.Conv2d(channels, channels, 3, padding: 1, bias: false), nn.BatchNorm2d(channels));

    /// <summary>The base width w.</summary>
    public int Width { get; }

    /// <summary>Residual blocks per stage.</summary>
    public int Blocks { get; }

    /// <inheritdoc />
    public override Linear Classifier => head;

    /// <inheritdoc />
    public override bool SupportsBFloat16 => true;

    internal Sequential Stem => stem;
    internal Sequential Widen1 => widen1;
    internal IList<Sequential> Stage1 => stage1;
    internal Sequential Widen2 => widen2;
    internal IList<Sequential> Stage2 => stage2;
    internal ReLU Relu => relu;
    internal Dropout Dropout => dropout;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var p = Precision;
        var x = MixedPrecision.Run(widen1, MixedPrecision.Run(stem, input, p), p);
        foreach (var branch in stage1)
            x = relu.call(x.add(MixedPrecision.Run(branch, x, p)));
        x = MixedPrecision.Run(widen2, x, p);
        foreach (var branch in stage2)
            x = relu.call(x.add(MixedPrecision.Run(branch, x, p)));
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
        head = Initialization.LinearLike(head, numClasses);
        ReplaceSubmodule(nameof(head), head);
        NumClasses = numClasses;
    }
}
