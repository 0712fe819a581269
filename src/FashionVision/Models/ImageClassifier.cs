using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The one shape every model in the zoo has: a feature extractor that ends in a spatial feature map, an embedding (global
/// pooling, hidden layers, dropout) and a classifier that turns the embedding into logits and can be reset to another class
/// count.
/// </summary>
/// <remarks>
/// <para>Splitting the forward pass is what fine-tuning (freeze the features, replace the head), Grad-CAM (gradients of a
/// class score with respect to the last feature map), feature extraction and metric learning (center loss reads the
/// embedding) build on: <c>logits = ForwardClassifier(ForwardEmbedding(ForwardFeatures(x)))</c>.</para>
/// <para>The classifier is linear by default. <see cref="UseHead"/> with <see cref="HeadKind.Cosine"/> makes it a cosine
/// classifier, <c>s·cos(embedding, wₖ)</c> over the same <see cref="Classifier"/> weight (its bias is not used): the head
/// ArcFace trains (<c>ArcFaceLoss</c> adds the angular margin to the true class at training time; evaluation reads the plain
/// cosine logits).</para>
/// </remarks>
public abstract class ImageClassifier : nn.Module<Tensor, Tensor>
{
    /// <summary>Creates the classifier.</summary>
    /// <param name="name">The module name.</param>
    /// <param name="inputChannels">Channels of the expected input.</param>
    /// <param name="numClasses">The number of classes the head predicts.</param>
    protected ImageClassifier(string name, int inputChannels, int numClasses) : base(name)
    {
        // Before any of the model's kernels can run: the runtime check and the kernel guard (Native.KernelGuard).
        Native.TorchRuntime.EnsureInitialized();
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
    /// <exception cref="ArgumentException">The value is <see cref="ComputePrecision.Auto"/>, which only a trainer resolves (it needs the device).</exception>
    public ComputePrecision Precision
    {
        get => _precision;
        set
        {
            if (value == ComputePrecision.Auto)
                throw new ArgumentException("A model computes in a concrete precision (Float32 or BFloat16); ComputePrecision.Auto is resolved by the Trainer " +
                                            "from the device (DeviceProfile.ChoosePrecision).", nameof(value));
            if (!Enum.IsDefined(value))
                throw new ArgumentOutOfRangeException(nameof(value), value, "Unknown compute precision.");
            if (value == ComputePrecision.BFloat16 && !SupportsBFloat16)
                throw new NotSupportedException($"{GetType().Name} computes in float32 only; models that support bfloat16 have SupportsBFloat16 = true.");
            _precision = value;
        }
    }

    private ComputePrecision _precision = ComputePrecision.Float32;

    /// <summary>Runs the feature extractor: input N×C×H×W to the last feature map N×F×h×w.</summary>
    public abstract Tensor ForwardFeatures(Tensor input);

    /// <summary>
    /// Runs the head up to its final layer: the feature map from <see cref="ForwardFeatures"/> to the embedding N×D that
    /// <see cref="Classifier"/> reads (D = <c>Classifier.in_features</c>): global pooling, any hidden layers, and the dropout in
    /// front of the classifier (active in training mode only).
    /// </summary>
    public abstract Tensor ForwardEmbedding(Tensor features);

    /// <summary>
    /// Runs the classifier: embeddings N×D to logits N×<see cref="NumClasses"/>. A linear head applies <see cref="Classifier"/>;
    /// a cosine head gives <c>s·(e/‖e‖)·(wₖ/‖wₖ‖)</c> with s = <see cref="CosineScale"/> and wₖ the rows of the classifier's weight.
    /// </summary>
    public Tensor ForwardClassifier(Tensor embedding)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        if (Head == HeadKind.Linear)
            return Classifier.call(embedding);
        using var scope = NewDisposeScope();
        var cosine = nn.functional.linear(nn.functional.normalize(embedding, p: 2, dim: 1), nn.functional.normalize(Classifier.weight!, p: 2, dim: 1));
        return scope.MoveToOuter(cosine.mul(CosineScale));
    }

    /// <summary>Runs the classifier head: the feature map from <see cref="ForwardFeatures"/> to logits N×<see cref="NumClasses"/> (<c>ForwardClassifier(ForwardEmbedding(features))</c>).</summary>
    public Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(ForwardClassifier(ForwardEmbedding(features)));
    }

    /// <summary>One forward pass that returns the logits and the embedding they were computed from (what center loss reads).</summary>
    /// <param name="input">Images N×C×H×W.</param>
    public (Tensor Logits, Tensor Embedding) ForwardWithEmbedding(Tensor input)
    {
        using var scope = NewDisposeScope();
        var embedding = ForwardEmbedding(ForwardFeatures(input));
        var logits = ForwardClassifier(embedding);
        scope.MoveToOuter(logits, embedding);
        return (logits, embedding);
    }

    /// <summary>Which classifier turns embeddings into logits (linear by default).</summary>
    public virtual HeadKind Head => _head;

    /// <summary>The scale s of a cosine head (0 for a linear head): logits lie in [−s, s].</summary>
    public virtual double CosineScale => _cosineScale;

    private HeadKind _head = HeadKind.Linear;
    private double _cosineScale;

    /// <summary>
    /// Chooses the classifier: <see cref="HeadKind.Linear"/> (<c>Classifier(e)</c>) or <see cref="HeadKind.Cosine"/>
    /// (<c>s·cos(e, wₖ)</c> over the same weight). The weight is kept, so the switch can be made on a trained model.
    /// </summary>
    /// <param name="head">The classifier kind.</param>
    /// <param name="cosineScale">The scale s of a cosine head, finite and positive (ignored for a linear head).</param>
    public virtual void UseHead(HeadKind head, double cosineScale = DefaultCosineScale)
    {
        if (!Enum.IsDefined(head))
            throw new ArgumentOutOfRangeException(nameof(head), head, "Unknown head kind.");
        if (head == HeadKind.Cosine && !(cosineScale > 0 && double.IsFinite(cosineScale)))
            throw new ArgumentOutOfRangeException(nameof(cosineScale), cosineScale, "The cosine scale must be finite and positive.");
        _head = head;
        _cosineScale = head == HeadKind.Cosine ? cosineScale : 0;
    }

    /// <summary>The default scale s of a cosine head (16: softmax can still reach 0.99+ for one of 10 classes with a margin).</summary>
    public const double DefaultCosineScale = 16;

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
        return scope.MoveToOuter(ForwardClassifier(ForwardEmbedding(ForwardFeatures(input))));
    }
}
