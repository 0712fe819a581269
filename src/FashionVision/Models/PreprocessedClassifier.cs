using FashionVision.Transforms;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// A classifier that preprocesses its own input (<see cref="InputPreprocessing"/>: resize, grey → RGB, per-channel
/// normalisation) before an inner classifier, so that a model built for 3×224×224 ImageNet images takes 1×28×28 images in
/// [0, 1] directly. Everything that runs the model (Trainer, Evaluator, Predictor, Grad-CAM, ONNX export) therefore
/// applies the same preprocessing.
/// </summary>
/// <remarks>
/// <para><see cref="ModelZoo.Create"/> builds one whenever <see cref="ModelOptions.Preprocessing"/> is set, and because a
/// checkpoint stores the model options, every model rebuilt from a checkpoint gets the same preprocessing.</para>
/// <para>The inner model is registered as the submodule <c>model</c>, so state-dict keys are the inner model's keys with a
/// <c>model.</c> prefix. Load weights meant for the bare network (e.g. torchvision's) into <see cref="Inner"/>.</para>
/// <para>The features are the inner model's: <see cref="ForwardFeatures"/> preprocesses and runs the inner feature
/// extractor, so Grad-CAM's heatmaps are computed on the inner feature map and upsampled to the raw input's size.</para>
/// </remarks>
public sealed class PreprocessedClassifier : ImageClassifier
{
    private readonly ImageClassifier model;
    private readonly float[]? _mean;
    private readonly float[]? _std;

    /// <summary>Wraps <paramref name="inner"/> so that it takes <paramref name="inputChannels"/>-channel inputs preprocessed by <paramref name="preprocessing"/>.</summary>
    /// <param name="inner">The classifier that receives the preprocessed images (disposed with this one).</param>
    /// <param name="preprocessing">The preprocessing; its output channels must equal the inner model's input channels.</param>
    /// <param name="inputChannels">Channels of the raw input.</param>
    /// <exception cref="ArgumentException">The preprocessing is invalid, or does not produce what the inner model takes.</exception>
    public PreprocessedClassifier(ImageClassifier inner, InputPreprocessing preprocessing, int inputChannels)
        : base(nameof(PreprocessedClassifier), inputChannels, inner?.NumClasses ?? 1)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(preprocessing);
        preprocessing.Validate(inputChannels);
        if (preprocessing.OutputChannels(inputChannels) != inner.InputChannels)
            throw new ArgumentException(
                $"The preprocessing makes {preprocessing.OutputChannels(inputChannels)}-channel images but the inner model takes {inner.InputChannels} channels.",
                nameof(preprocessing));
        model = inner;
        Preprocessing = preprocessing;
        _mean = preprocessing.Mean?.ToArray();
        _std = preprocessing.Std?.ToArray();
        RegisterComponents();
    }

    /// <summary>The classifier that receives the preprocessed images.</summary>
    public ImageClassifier Inner => model;

    /// <summary>The preprocessing applied before <see cref="Inner"/>.</summary>
    public InputPreprocessing Preprocessing { get; }

    /// <inheritdoc />
    public override Linear Classifier => model.Classifier;

    /// <inheritdoc />
    public override IEnumerable<Parameter> HeadParameters() => model.HeadParameters();

    /// <summary>Applies the preprocessing: N×<see cref="ImageClassifier.InputChannels"/>×H×W in [0, 1] to what <see cref="Inner"/> takes.</summary>
    /// <param name="input">Float images on the model's device.</param>
    /// <exception cref="ArgumentException">The images are not 4-D with <see cref="ImageClassifier.InputChannels"/> channels.</exception>
    public Tensor Preprocess(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] != InputChannels)
            throw new ArgumentException(
                $"The model takes images N×{InputChannels}×H×W; got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        var x = input;
        if (Preprocessing.Size is int size && (x.shape[2] != size || x.shape[3] != size))
            x = TransformFunctional.Resize(x, size, size);
        if (Preprocessing.Channels is int channels && x.shape[1] != channels)
            x = x.expand(-1, channels, -1, -1);
        if (_mean is not null && _std is not null)
        {
            var mean = tensor(_mean, [1, _mean.Length, 1, 1], dtype: x.dtype, device: x.device);
            var std = tensor(_std, [1, _std.Length, 1, 1], dtype: x.dtype, device: x.device);
            x = (x - mean) / std;
        }
        return scope.MoveToOuter(ReferenceEquals(x, input) ? x.alias() : x);
    }

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(model.ForwardFeatures(Preprocess(input)));
    }

    /// <inheritdoc />
    public override Tensor ForwardEmbedding(Tensor features) => model.ForwardEmbedding(features);

    /// <inheritdoc />
    public override HeadKind Head => model.Head;

    /// <inheritdoc />
    public override double CosineScale => model.CosineScale;

    /// <inheritdoc />
    /// <remarks>Sets the inner model's classifier (the wrapper has none of its own).</remarks>
    public override void UseHead(HeadKind head, double cosineScale = DefaultCosineScale) => model.UseHead(head, cosineScale);

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(model.forward(Preprocess(input)));
    }

    /// <inheritdoc />
    public override void ResetClassifier(int numClasses)
    {
        model.ResetClassifier(numClasses);
        NumClasses = model.NumClasses;
    }
}
