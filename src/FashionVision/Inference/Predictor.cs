using FashionVision.Data;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Inference;

/// <summary>
/// Classifies images with a TorchSharp model: applies the training normalisation, runs the model in eval mode without
/// gradients (over every view of a <see cref="TestTimeAugmentation"/> when one is given), and returns probabilities and
/// top-k classes. Safe to call from many threads at once (calls are serialised on the model, whose forward pass is not
/// re-entrant with respect to its mode). For an ensemble, pass an <see cref="EnsembleClassifier"/> or use <see cref="FromCheckpoints"/>.
/// </summary>
public sealed class Predictor : IPredictor
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Tensor? _scale;
    private readonly Tensor? _shift;
    private readonly float[]? _fill;
    private readonly object _gate = new();
    private readonly bool _ownsModel;
    private bool _disposed;

    /// <summary>Creates a predictor around a trained model.</summary>
    /// <param name="model">The model (put in eval mode and moved to <paramref name="device"/>).</param>
    /// <param name="classNames">The class names, in class-index order; their count must equal the model's outputs.</param>
    /// <param name="normalization">The normalisation the model was trained with (null = inputs in [0, 1]).</param>
    /// <param name="inputShape">Channels, height, width of the expected input.</param>
    /// <param name="device">The device (default CPU).</param>
    /// <param name="ownsModel">Dispose the model with the predictor.</param>
    /// <param name="tta">Test-time augmentation: average each image's prediction over these views (null: the plain model).</param>
    public Predictor(nn.Module<Tensor, Tensor> model, IReadOnlyList<string> classNames, ChannelStatistics? normalization,
        (int Channels, int Height, int Width) inputShape, Device? device = null, bool ownsModel = false, TestTimeAugmentation? tta = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(classNames);
        if (classNames.Count < 2 || classNames.Any(string.IsNullOrEmpty))
            throw new ArgumentException("A predictor needs at least two non-empty class names.", nameof(classNames));
        if (inputShape.Channels <= 0 || inputShape.Height <= 0 || inputShape.Width <= 0)
            throw new ArgumentOutOfRangeException(nameof(inputShape), inputShape, "The input shape must be positive.");
        if (normalization is { } n && (n.Channels != inputShape.Channels || n.Std.Any(s => !(s > 0))))
            throw new ArgumentException($"The normalisation must have {inputShape.Channels} channel(s) with positive std.", nameof(normalization));
        Device = device ?? CPU;
        _model = model;
        _ownsModel = ownsModel;
        _model.to(Device);
        _model.eval();
        ClassNames = classNames.ToArray();
        InputShape = inputShape;
        Normalization = normalization;
        Tta = tta is { IsIdentity: false } ? tta : null;
        _fill = TestTimeAugmentation.BlackLevel(normalization);
        if (normalization is { } stats)
        {
            _scale = tensor(stats.Std.Select(s => 1f / s).ToArray(), new long[] { 1, stats.Channels, 1, 1 }, device: Device);
            _shift = tensor(stats.Mean.Select(m => -m).ToArray(), new long[] { 1, stats.Channels, 1, 1 }, device: Device);
        }
        using var probe = zeros(new long[] { 1, inputShape.Channels, inputShape.Height, inputShape.Width }, device: Device);
        using var noGrad = no_grad();
        using var output = _model.forward(probe);
        if (output.dim() != 2 || output.shape[1] != ClassNames.Count)
            throw new ArgumentException($"The model outputs [{string.Join(", ", output.shape)}] but {ClassNames.Count} class names were given.", nameof(classNames));
    }

    /// <summary>
    /// Loads a predictor from a checkpoint written by the <see cref="Trainer"/>: the model is built by
    /// <paramref name="modelFactory"/> from the checkpoint's manifest (model name, options, class count), then its weights
    /// (the EMA weights when present) are loaded.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a checkpoint.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the model the factory built.</exception>
    /// <param name="path">The checkpoint.</param>
    /// <param name="modelFactory">Builds the (untrained) model from the manifest.</param>
    /// <param name="device">The device (default CPU).</param>
    /// <param name="tta">Test-time augmentation (null: the plain model).</param>
    public static Predictor FromCheckpoint(string path, Func<CheckpointManifest, nn.Module<Tensor, Tensor>> modelFactory, Device? device = null,
        TestTimeAugmentation? tta = null)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        return FromCheckpoint(Checkpoint.Load(path), checkpoint =>
        {
            var model = modelFactory(checkpoint.Manifest) ?? throw new ArgumentException("The model factory returned null.", nameof(modelFactory));
            try
            {
                checkpoint.LoadWeightsInto(model, preferAveraged: true);
                return model;
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }, device, tta);
    }

    private static Predictor FromCheckpoint(Checkpoint checkpoint, Func<Checkpoint, nn.Module<Tensor, Tensor>> createTrainedModel, Device? device,
        TestTimeAugmentation? tta)
    {
        var manifest = checkpoint.Manifest;
        if (manifest.InputShape.Length != 3 || manifest.ClassNames.Count == 0)
            throw new CheckpointFormatException(checkpoint.Path ?? "(memory)", "its manifest lacks the input shape or the class names.");
        var model = createTrainedModel(checkpoint);
        try
        {
            return new Predictor(model, manifest.ClassNames, manifest.Normalization,
                (manifest.InputShape[0], manifest.InputShape[1], manifest.InputShape[2]), device, ownsModel: true, tta);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a predictor from a checkpoint whose manifest names a <see cref="Models.ModelZoo"/> model
    /// (<see cref="TrainerOptions.ModelName"/>, e.g. set through <see cref="TrainerOptions.WithZooModel"/> or a recipe): the
    /// model is rebuilt with its options, preprocessing included (<see cref="Checkpoint.CreateZooModel"/>).
    /// </summary>
    /// <param name="path">The checkpoint.</param>
    /// <param name="device">The device (default CPU).</param>
    /// <param name="tta">Test-time augmentation (null: the plain model).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a checkpoint, or it names no zoo model.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the named model.</exception>
    public static Predictor FromCheckpoint(string path, Device? device = null, TestTimeAugmentation? tta = null)
    {
        return FromCheckpoint(Checkpoint.Load(path), checkpoint => checkpoint.CreateZooModel(preferAveraged: true), device, tta);
    }

    /// <summary>
    /// Loads a predictor over an ensemble of checkpoints (<see cref="EnsembleClassifier.FromCheckpoints"/>): each image's
    /// prediction is the average of the members'. The members normalise their own inputs, so callers pass [0, 1] pixels as usual.
    /// </summary>
    /// <param name="paths">At least one checkpoint of a zoo model; all trained on the same classes and input shape.</param>
    /// <param name="device">The device (default CPU).</param>
    /// <param name="tta">Test-time augmentation applied to the ensemble (null: none).</param>
    /// <param name="averaging">How the members' predictions are combined.</param>
    /// <exception cref="ArgumentException">No paths, or checkpoints of different classes or input shapes.</exception>
    /// <exception cref="CheckpointFormatException">A file is not a checkpoint of a zoo model.</exception>
    public static Predictor FromCheckpoints(IReadOnlyList<string> paths, Device? device = null, TestTimeAugmentation? tta = null,
        PredictionAveraging averaging = PredictionAveraging.Probabilities)
    {
        var ensemble = EnsembleClassifier.FromCheckpoints(paths, averaging);
        try
        {
            var manifest = ensemble.Manifests[0];
            if (manifest.InputShape.Length != 3 || manifest.ClassNames.Count == 0)
                throw new CheckpointFormatException(paths[0], "its manifest lacks the input shape or the class names.");
            return new Predictor(ensemble, manifest.ClassNames, normalization: null,
                (manifest.InputShape[0], manifest.InputShape[1], manifest.InputShape[2]), device, ownsModel: true, tta);
        }
        catch
        {
            ensemble.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc />
    public (int Channels, int Height, int Width) InputShape { get; }

    /// <summary>The normalisation applied to inputs, or null.</summary>
    public ChannelStatistics? Normalization { get; }

    /// <summary>The device the model runs on.</summary>
    public Device Device { get; }

    /// <summary>The test-time augmentation predictions are averaged over, or null for the plain model.</summary>
    public TestTimeAugmentation? Tta { get; }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> Predict(ReadOnlySpan<float> pixels, int count, int topK = 3)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (topK < 1 || topK > ClassNames.Count)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be between 1 and {ClassNames.Count}.");
        long perImage = (long)InputShape.Channels * InputShape.Height * InputShape.Width;
        if (pixels.Length != perImage * count)
            throw new ArgumentException($"Expected {count} × {InputShape.Channels}×{InputShape.Height}×{InputShape.Width} = {perImage * count} values but got {pixels.Length}.", nameof(pixels));
        foreach (float v in pixels)
            if (!float.IsFinite(v))
                throw new ArgumentException("The pixels contain NaN or infinite values.", nameof(pixels));
        var data = pixels.ToArray();
        float[] probabilities;
        using (var images = tensor(data, new long[] { count, InputShape.Channels, InputShape.Height, InputShape.Width }))
            probabilities = PredictProbabilities(images);
        return ToPredictions(probabilities, count, topK);
    }

    /// <summary>Classifies a float tensor N×C×H×W of intensities in [0, 1] (on any device).</summary>
    public IReadOnlyList<Prediction> Predict(Tensor images, int topK = 3)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] != InputShape.Channels || images.shape[2] != InputShape.Height || images.shape[3] != InputShape.Width || images.shape[0] < 1)
            throw new ArgumentException($"Images must be N×{InputShape.Channels}×{InputShape.Height}×{InputShape.Width}; got [{string.Join(", ", images.shape)}].", nameof(images));
        if (!images.is_floating_point())
            throw new ArgumentException($"Images must be floating point in [0, 1]; got {images.dtype}.", nameof(images));
        if (topK < 1 || topK > ClassNames.Count)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, $"topK must be between 1 and {ClassNames.Count}.");
        return ToPredictions(PredictProbabilities(images), (int)images.shape[0], topK);
    }

    private float[] PredictProbabilities(Tensor images)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var x = images.to(Device).to_type(ScalarType.Float32);
            if (_scale is not null)
                x = x.add(_shift!).mul(_scale);
            var logits = Tta is null ? _model.call(x) : Tta.Forward(_model, x, _fill);
            return logits.softmax(1).cpu().data<float>().ToArray();
        }
    }

    private IReadOnlyList<Prediction> ToPredictions(float[] probabilities, int count, int topK)
    {
        int k = ClassNames.Count;
        var result = new Prediction[count];
        for (int i = 0; i < count; i++)
        {
            var row = new float[k];
            Array.Copy(probabilities, i * k, row, 0, k);
            var order = Enumerable.Range(0, k).OrderByDescending(c => row[c]).ThenBy(c => c).Take(topK)
                .Select(c => new ClassProbability(c, ClassNames[c], row[c])).ToArray();
            result[i] = new Prediction(order[0].ClassIndex, order[0].ClassName, row, order);
        }
        return result;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            _scale?.Dispose();
            _shift?.Dispose();
            if (_ownsModel)
                _model.Dispose();
        }
    }
}
