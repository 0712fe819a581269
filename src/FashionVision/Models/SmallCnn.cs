using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The small CNN common in the Fashion-MNIST literature: two blocks of two 3×3 convolutions (32-32, 64-64) with BatchNorm,
/// each followed by max-pooling, then global average pooling, a 128-unit hidden layer and dropout.
/// </summary>
/// <remarks>
/// Structure (w = 32 × width; every convolution is Conv2d(…, 3, padding 1, no bias) → BatchNorm2d → ReLU):
/// <code>
/// Features: conv(C, w), conv(w, w), [attention], MaxPool2d(2), conv(w, 2w), conv(2w, 2w), [attention], MaxPool2d(2)   2w×7×7
/// head: AvgPool → flatten → Fc1 → Relu → Dropout → Fc2      AdaptiveAvgPool2d(1), Linear(2w, 128), ReLU, Dropout(0.5), Linear(128, classes)
/// </code>
/// </remarks>
public sealed class SmallCnn : ImageClassifier
{
    private readonly Sequential features;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc1;
    private readonly ReLU relu;
    private readonly Dropout dropout;
    private Linear fc2;

    /// <summary>Creates the network.</summary>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="dropRate">Dropout after the hidden layer (0.5 by default).</param>
    /// <param name="width">Multiplier of the base widths 32 and 64.</param>
    /// <param name="attention">Attention at the end of each convolution block, before pooling.</param>
    public SmallCnn(int inputChannels = 1, int numClasses = 10, double dropRate = 0.5, double width = 1.0,
        AttentionKind attention = AttentionKind.None) : base(nameof(SmallCnn), inputChannels, numClasses)
    {
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        Initialization.CheckWidth(width, nameof(width));
        long w = Initialization.Scale(32, width);
        features = ConvStack.Build(inputChannels, new[] { new[] { w, w }, new[] { 2 * w, 2 * w } }, attention);
        FeatureChannels = 2 * w;
        avgpool = nn.AdaptiveAvgPool2d(1);
        fc1 = nn.Linear(2 * w, 128);
        relu = nn.ReLU();
        dropout = nn.Dropout(dropRate);
        fc2 = nn.Linear(128, numClasses);
        RegisterComponents();
        Initialization.HeNormal(this);
    }

    /// <summary>Channels of the last feature map.</summary>
    public long FeatureChannels { get; }

    /// <summary>The convolution blocks (conv, bn, relu …, max-pool).</summary>
    public Sequential Features => features;

    /// <summary>Global average pooling of the head.</summary>
    public AdaptiveAvgPool2d AvgPool => avgpool;

    /// <summary>The hidden layer of the head (→ 128).</summary>
    public Linear Fc1 => fc1;

    /// <summary>ReLU after the hidden layer.</summary>
    public ReLU Relu => relu;

    /// <summary>Dropout before the output layer.</summary>
    public Dropout Dropout => dropout;

    /// <inheritdoc />
    public override Linear Classifier => fc2;

    /// <inheritdoc />
    public override IEnumerable<Parameter> HeadParameters() => fc1.parameters().Concat(fc2.parameters());

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(features.call(input));
    }

    /// <inheritdoc />
    public override Tensor ForwardEmbedding(Tensor features)
    {
        using var scope = NewDisposeScope();
        var x = relu.call(fc1.call(avgpool.call(features).flatten(1)));
        return scope.MoveToOuter(dropout.call(x));
    }

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        ValidateNumClasses(numClasses);
        fc2 = Initialization.LinearLike(fc2, numClasses);
        ReplaceSubmodule(nameof(fc2), fc2);
        NumClasses = numClasses;
    }
}
