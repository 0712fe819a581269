using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// An <see cref="ImageClassifier"/> whose head is global average pooling → flatten → dropout (the embedding) → one linear
/// layer (or the cosine classifier over its weight, <see cref="ImageClassifier.UseHead"/>): the head of <see cref="ResNet"/>,
/// <see cref="WideResNet"/>, <see cref="MobileNet"/>, <see cref="VggCnn"/>, <see cref="DenseNet"/> and
/// <see cref="VisionTransformer"/>, written once.
/// </summary>
/// <remarks>
/// <para>A derived network builds its feature extractor, calls <c>RegisterComponents()</c> and then <see cref="AddHead"/>,
/// and initialises its weights after that. The head's modules are registered on the network itself under the names
/// <c>avgpool</c>, <c>dropout</c> and <c>fc</c>, after the feature extractor's, so the state dict is
/// <c>…, fc.weight, fc.bias</c>, as torchvision's ResNet names it: its weights and checkpoints written before this class
/// existed load unchanged.</para>
/// </remarks>
public abstract class GlobalPoolingClassifier : ImageClassifier
{
    /// <summary>The state-dict name of the global average pooling.</summary>
    public const string AvgPoolName = "avgpool";

    /// <summary>The state-dict name of the dropout before the linear layer.</summary>
    public const string DropoutName = "dropout";

    /// <summary>The state-dict name of the final linear layer (<c>fc.weight</c>, <c>fc.bias</c>).</summary>
    public const string ClassifierName = "fc";

    private AdaptiveAvgPool2d? _avgpool;
    private Dropout? _dropout;
    private Linear? _fc;

    /// <summary>Creates the classifier; the derived constructor adds the head with <see cref="AddHead"/>.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="inputChannels">Channels of the expected input.</param>
    /// <param name="numClasses">The number of classes the head predicts.</param>
    protected GlobalPoolingClassifier(string name, int inputChannels, int numClasses) : base(name, inputChannels, numClasses)
    {
    }

    /// <summary>Channels of the last feature map, the input width of <see cref="Classifier"/>.</summary>
    public long FeatureChannels { get; private set; }

    /// <summary>Global average pooling of the head.</summary>
    public AdaptiveAvgPool2d AvgPool => _avgpool ?? throw HeadMissing();

    /// <summary>Dropout before the linear layer (probability 0 where the network has none).</summary>
    public Dropout Dropout => _dropout ?? throw HeadMissing();

    /// <inheritdoc />
    public override Linear Classifier => _fc ?? throw HeadMissing();

    /// <summary>
    /// Creates and registers the head for <paramref name="featureChannels"/>-channel feature maps. Call it once, after the
    /// feature extractor is registered and before the weights are initialised (the linear layer draws its initial weights
    /// from torch's global generator here).
    /// </summary>
    /// <param name="featureChannels">Channels of the feature map <see cref="ImageClassifier.ForwardFeatures"/> returns.</param>
    /// <param name="dropRate">Dropout before the linear layer, in [0, 1).</param>
    /// <exception cref="InvalidOperationException">The head was already added.</exception>
    protected void AddHead(long featureChannels, double dropRate)
    {
        if (_fc is not null)
            throw new InvalidOperationException($"{GetType().Name} already has its head.");
        ArgumentOutOfRangeException.ThrowIfLessThan(featureChannels, 1);
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        FeatureChannels = featureChannels;
        _avgpool = nn.AdaptiveAvgPool2d(1);
        _dropout = nn.Dropout(dropRate);
        _fc = nn.Linear(featureChannels, NumClasses);
        register_module(AvgPoolName, _avgpool);
        register_module(DropoutName, _dropout);
        register_module(ClassifierName, _fc);
    }

    /// <inheritdoc />
    /// <remarks>The embedding is the dropped-out global average: <c>Dropout(AvgPool(features).flatten(1))</c>, N×<see cref="FeatureChannels"/>;
    /// <see cref="ImageClassifier.ForwardClassifier"/> turns it into logits (linear or cosine, <see cref="ImageClassifier.UseHead"/>).</remarks>
    public sealed override Tensor ForwardEmbedding(Tensor features)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Dropout.call(AvgPool.call(features).flatten(1)));
    }

    /// <inheritdoc />
    public sealed override void ResetClassifier(int numClasses)
    {
        ValidateNumClasses(numClasses);
        _fc = Initialization.LinearLike(Classifier, numClasses);
        ReplaceSubmodule(ClassifierName, _fc);
        NumClasses = numClasses;
    }

    private InvalidOperationException HeadMissing() =>
        new($"{GetType().Name} has no head: its constructor must call {nameof(AddHead)}.");
}
