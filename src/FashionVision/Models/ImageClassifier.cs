using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The one shape every model in the zoo has: a feature extractor that ends in a spatial feature map, and a classifier head
/// (global pooling, dropout, linear) that can be reset to another class count.
/// </summary>
/// <remarks>
/// Splitting the forward pass in two is what fine-tuning (freeze the features, replace the head), Grad-CAM (gradients of a
/// class score with respect to the last feature map) and feature extraction build on.
/// </remarks>
public abstract class ImageClassifier : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the classifier.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="inputChannels">Channels of the expected input.</param>
    /// <param name="numClasses">The number of classes the head predicts.</param>
    protected ImageClassifier(string name, int inputChannels, int numClasses) : base(name)
    {
        if (inputChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputChannels), inputChannels, "Input channels must be positive.");
        if (numClasses <= 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
        InputChannels = inputChannels;
        NumClasses = numClasses;
    }

    /// <summary>Channels of the expected input (1 for grayscale, 3 for ImageNet-style models).</summary>
    public int InputChannels { get; }

    /// <summary>The number of classes the head predicts.</summary>
    public int NumClasses { get; protected set; }

    /// <summary>Whether the model can compute its convolutions in <see cref="ComputePrecision.BFloat16"/>.</summary>
    public virtual bool SupportsBFloat16 => false;

    /// <summary>
    /// The format the convolutions compute in (default <see cref="ComputePrecision.Float32"/>); parameters stay float32 and
    /// the logits are float32 either way. <see cref="Training.TrainerOptions.Precision"/> sets it for a training run.
    /// </summary>
    /// <exception cref="NotSupportedException">The model does not support bfloat16 (<see cref="SupportsBFloat16"/>).</exception>
    public ComputePrecision Precision
    {
        get => _precision;
        set
        {
            if (value == ComputePrecision.BFloat16 && !SupportsBFloat16)
                throw new NotSupportedException($"{GetType().Name} computes in float32 only; models that support bfloat16 have SupportsBFloat16 = true.");
            _precision = value;
        }
    }

    private ComputePrecision _precision = ComputePrecision.Float32;

    /// <summary>Runs the feature extractor: input N×C×H×W to the last feature map N×F×h×w.</summary>
    public abstract Tensor ForwardFeatures(Tensor input);

    /// <summary>Runs the classifier head: the feature map from <see cref="ForwardFeatures"/> to logits N×<see cref="NumClasses"/>.</summary>
    public abstract Tensor ForwardHead(Tensor features);

    /// <summary>Replaces the classifier head with a freshly initialised one for <paramref name="numClasses"/> classes.</summary>
    public abstract void ResetClassifier(int numClasses);

    /// <summary>The final linear layer of the head, the one <see cref="ResetClassifier"/> replaces.</summary>
    public abstract Linear Classifier { get; }

    /// <summary>
    /// The parameters of the classifier head (by default those of <see cref="Classifier"/>; models whose head has hidden
    /// layers, like LeNet-5, include those too). Everything else is the backbone (<see cref="FeatureParameters"/>).
    /// </summary>
    public virtual IEnumerable<Parameter> HeadParameters() => Classifier.parameters();

    /// <summary>The parameters of the feature extractor: every parameter that is not in <see cref="HeadParameters"/>.</summary>
    public IEnumerable<Parameter> FeatureParameters()
    {
        var head = new HashSet<IntPtr>(HeadParameters().Select(p => p.Handle));
        return parameters().Where(p => !head.Contains(p.Handle)).ToList();
    }

    /// <summary>
    /// Replaces the registered submodule <paramref name="name"/> with <paramref name="module"/>, keeping its state-dict name.
    /// Derived classes call it from <see cref="ResetClassifier"/>. The old module is not disposed (an optimizer or a caller may
    /// still hold its parameters); it is freed when no longer referenced.
    /// </summary>
    /// <param name="name">The name the submodule was registered under (its field name).</param>
    /// <param name="module">The new submodule.</param>
    protected void ReplaceSubmodule(string name, nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (_internal_submodules.ContainsKey(name))
            _internal_submodules.Remove(name);
        register_module(name, module);
    }

    /// <summary>Checks a class count given to <see cref="ResetClassifier"/>.</summary>
    /// <param name="numClasses">The requested class count.</param>
    protected static void ValidateNumClasses(int numClasses)
    {
        if (numClasses <= 0)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "The number of classes must be positive.");
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = ForwardFeatures(input);
        return scope.MoveToOuter(ForwardHead(features));
    }
}
