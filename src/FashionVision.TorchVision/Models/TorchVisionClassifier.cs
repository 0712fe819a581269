using FashionVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// The <see cref="ImageClassifier"/> shape of a torchvision classification network: its modules keep torchvision's
/// state-dict names (so PyTorch's <c>.pth</c> weights load by name), the forward pass is split into features (the last
/// feature map), embedding (global average pooling and whatever the head has before its last linear layer) and classifier
/// (that last linear layer, the one <see cref="ResetClassifier"/> replaces).
/// </summary>
/// <remarks>
/// Two head layouts occur in torchvision and both are kept name for name: a single top-level <see cref="Linear"/>
/// (<c>fc</c> in ResNet and ShuffleNetV2, <c>classifier</c> in DenseNet; a parameter-free dropout registered as
/// <c>dropout</c> sits in front of it, off by default as in torchvision), or a <c>classifier</c> <see cref="Sequential"/> whose
/// last element is the linear layer (EfficientNet: dropout, linear; MobileNetV3: linear, Hardswish, dropout, linear).
/// </remarks>
public abstract class TorchVisionClassifier : ImageClassifier
{
    /// <summary>The state-dict name of a <see cref="Sequential"/> head (torchvision's <c>classifier</c>).</summary>
    public const string SequentialHeadName = "classifier";

    /// <summary>The name the dropout in front of a single-linear head is registered under (it has no parameters).</summary>
    public const string DropoutName = "dropout";

    private (string Name, nn.Module<Tensor, Tensor> Module)[] _stages = [];
    private Linear? _classifier;
    private nn.Module<Tensor, Tensor>[] _hidden = [];
    private Dropout? _dropout;
    private string? _headName;
    private bool _sequentialHead;

    /// <summary>Creates the classifier; the derived constructor registers its modules and then calls one of the head setters.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="architecture">torchvision's builder name, e.g. <c>efficientnet_b0</c>.</param>
    /// <param name="inputChannels">Channels of the expected input.</param>
    /// <param name="numClasses">The number of classes the head predicts.</param>
    protected TorchVisionClassifier(string name, string architecture, int inputChannels, int numClasses) : base(name, inputChannels, numClasses)
    {
        ArgumentException.ThrowIfNullOrEmpty(architecture);
        Architecture = architecture;
    }

    /// <summary>torchvision's builder name of the architecture (<c>resnet50</c>, <c>mobilenet_v3_small</c>, …).</summary>
    public string Architecture { get; }

    /// <inheritdoc />
    public override Linear Classifier => _classifier ?? throw HeadMissing();

    /// <summary>The top-level modules <see cref="ForwardFeatures"/> runs in order, with their state-dict names.</summary>
    public IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Module)> FeatureStages => _stages;

    /// <summary>Whether the embedding applies ReLU to the feature map before pooling (DenseNet's head does).</summary>
    public virtual bool ActivatesBeforePooling => false;

    /// <summary>The modules between pooling and <see cref="Classifier"/>: a <c>classifier</c> Sequential's leading elements, else the dropout.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> HeadHidden => _sequentialHead ? _hidden : [Dropout];

    /// <summary>The state-dict name of the head: <c>classifier</c> (a Sequential or a Linear) or <c>fc</c>.</summary>
    public string HeadName => _headName ?? throw HeadMissing();

    /// <summary>Runs <see cref="FeatureStages"/> in order: input N×C×H×W to the last feature map.</summary>
    /// <param name="input">Images.</param>
    public sealed override Tensor ForwardFeatures(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var (_, module) in _stages)
            x = module.call(x);
        return scope.MoveToOuter(x);
    }

    /// <summary>Registers the feature extractor: top-level modules under torchvision's names, run in this order.</summary>
    /// <param name="stages">Name and module of each stage.</param>
    protected void SetFeatureStages(params (string Name, nn.Module<Tensor, Tensor> Module)[] stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        _stages = stages.ToArray();
        foreach (var (name, module) in _stages)
            register_module(name, module);
    }

    /// <summary>The dropout in front of the classifier (the head's own for EfficientNet and MobileNetV3).</summary>
    public Dropout Dropout => _dropout ?? throw HeadMissing();

    /// <summary>The parameters of the head: the classifier and, for MobileNetV3, the hidden linear layer before it.</summary>
    public override IEnumerable<Parameter> HeadParameters() =>
        _hidden.SelectMany(m => m.parameters()).Concat(Classifier.parameters()).ToList();

    /// <summary>Registers a single-linear head under <paramref name="headName"/>, with a parameter-free dropout in front of it.</summary>
    /// <param name="headName">torchvision's name of the linear layer (<c>fc</c> or <c>classifier</c>).</param>
    /// <param name="classifier">The linear layer.</param>
    /// <param name="dropRate">The dropout probability in [0, 1).</param>
    protected void SetLinearHead(string headName, Linear classifier, double dropRate)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        CheckDropRate(dropRate);
        _headName = headName;
        _sequentialHead = false;
        _classifier = classifier;
        _dropout = nn.Dropout(dropRate);
        register_module(DropoutName, _dropout);
        register_module(headName, classifier);
    }

    /// <summary>
    /// Registers a <c>classifier</c> <see cref="Sequential"/> made of <paramref name="hidden"/> (named 0, 1, …) and then
    /// <paramref name="classifier"/>, the way torchvision names it.
    /// </summary>
    /// <param name="hidden">The modules before the last linear layer; exactly one of them is a <see cref="Dropout"/>.</param>
    /// <param name="classifier">The last linear layer.</param>
    protected void SetSequentialHead(IReadOnlyList<nn.Module<Tensor, Tensor>> hidden, Linear classifier)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(classifier);
        _dropout = hidden.OfType<Dropout>().Single();
        _hidden = hidden.ToArray();
        _headName = SequentialHeadName;
        _sequentialHead = true;
        _classifier = classifier;
        ReplaceSubmodule(SequentialHeadName, BuildSequentialHead());
    }

    /// <summary>
    /// Does nothing: this class and its subclasses register every module explicitly under torchvision's name. TorchSharp's
    /// field scan (which <c>register_module</c> runs on a child) would register them a second time under their C# field names.
    /// </summary>
    protected override void RegisterComponents()
    {
    }

    private Tensor Pool(Tensor features) =>
        nn.functional.adaptive_avg_pool2d(ActivatesBeforePooling ? nn.functional.relu(features) : features, 1).flatten(1);

    /// <summary>A fresh classifier for <paramref name="numClasses"/> classes, initialised the way the architecture's builder does.</summary>
    /// <param name="inFeatures">The embedding width.</param>
    /// <param name="numClasses">The class count.</param>
    protected abstract Linear CreateClassifier(long inFeatures, int numClasses);

    /// <inheritdoc />
    public override Tensor ForwardEmbedding(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        var x = Pool(features);
        if (_sequentialHead)
        {
            foreach (var module in _hidden)
                x = module.call(x);
        }
        else
        {
            x = Dropout.call(x);
        }
        return scope.MoveToOuter(x);
    }

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        ValidateNumClasses(numClasses);
        var old = Classifier;
        var fresh = CreateClassifier(old.in_features, numClasses);
        fresh.to(old.weight.device);
        _classifier = fresh;
        if (_sequentialHead)
            ReplaceSubmodule(SequentialHeadName, BuildSequentialHead());
        else
            ReplaceSubmodule(_headName!, fresh);
        NumClasses = numClasses;
    }

    /// <summary>Checks a dropout probability (ModelOptions.DropRate).</summary>
    /// <param name="dropRate">The probability.</param>
    protected static double CheckDropRate(double dropRate)
    {
        if (!(dropRate >= 0 && dropRate < 1))
            throw new ArgumentOutOfRangeException(nameof(dropRate), dropRate, "The drop rate must be in [0, 1).");
        return dropRate;
    }

    /// <summary>torchvision's <c>kaiming_normal_(mode="fan_out")</c> for convolutions, ones and zeros for BatchNorm.</summary>
    /// <param name="module">The module whose convolutions and BatchNorm layers are initialised.</param>
    protected static void InitializeConvolutionsFanOut(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut);
                    if (conv.bias is not null)
                        nn.init.zeros_(conv.bias);
                    break;
                case BatchNorm2d norm:
                    nn.init.ones_(norm.weight);
                    nn.init.zeros_(norm.bias);
                    break;
            }
        }
    }

    private Sequential BuildSequentialHead()
    {
        var modules = _hidden.Append(Classifier).Select((m, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), m));
        return nn.Sequential(modules);
    }

    private InvalidOperationException HeadMissing() =>
        new($"{GetType().Name} has no head: its constructor must call {nameof(SetLinearHead)} or {nameof(SetSequentialHead)}.");
}
