using FashionVision.Data;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Inference;

/// <summary>
/// Classifies images with a TorchSharp model: applies the training normalisation, runs the model in eval mode without
/// gradients, and returns probabilities and top-k classes. Safe to call from many threads at once (calls are serialised
/// on the model, whose forward pass is not re-entrant with respect to its mode).
/// </summary>
public sealed class Predictor : IPredictor
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Tensor? _scale;
    private readonly Tensor? _shift;
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
    /// <param name="horizontalFlipTta">Average each image's probabilities with those of its mirror.</param>
    public Predictor(nn.Module<Tensor, Tensor> model, IReadOnlyList<string> classNames, ChannelStatistics? normalization,
        (int Channels, int Height, int Width) inputShape, Device? device = null, bool ownsModel = false, bool horizontalFlipTta = false)
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
        HorizontalFlipTta = horizontalFlipTta;
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
    public static Predictor FromCheckpoint(string path, Func<CheckpointManifest, nn.Module<Tensor, Tensor>> modelFactory, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        var checkpoint = Checkpoint.Load(path);
        var manifest = checkpoint.Manifest;
        if (manifest.InputShape.Length != 3 || manifest.ClassNames.Count == 0)
            throw new CheckpointFormatException(path, "its manifest lacks the input shape or the class names.");
        var model = modelFactory(manifest) ?? throw new ArgumentException("The model factory returned null.", nameof(modelFactory));
        try
        {
            checkpoint.LoadWeightsInto(model, preferAveraged: true);
            return new Predictor(model, manifest.ClassNames, manifest.Normalization,
                (manifest.InputShape[0], manifest.InputShape[1], manifest.InputShape[2]), device, ownsModel: true);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a predictor from a checkpoint whose manifest names a <see cref="Models.ModelZoo"/> model
    /// (<see cref="TrainerOptions.ModelName"/>, e.g. set through <see cref="TrainerOptions.WithZooModel"/> or a recipe).
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a checkpoint, or it names no zoo model.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the named model.</exception>
    public static Predictor FromCheckpoint(string path, Device? device = null)
    {
        return FromCheckpoint(path, manifest =>
        {
            if (string.IsNullOrEmpty(manifest.ModelName) || !Models.ModelZoo.Contains(manifest.ModelName))
                throw new CheckpointFormatException(path, manifest.ModelName is null
                    ? "it does not name a zoo model (TrainerOptions.ModelName); use the overload that takes a model factory."
                    : $"it names the model '{manifest.ModelName}', which the zoo does not know (known: {string.Join(", ", Models.ModelZoo.Names)}).");
            var options = manifest.ModelOptionsJson is { Length: > 0 } json
                ? Models.ModelOptions.FromJson(json)
                : Models.ModelZoo.DefaultOptions(manifest.ModelName);
            return Models.ModelZoo.Create(manifest.ModelName, options with
            {
                InputChannels = manifest.InputShape[0],
                NumClasses = manifest.ClassNames.Count,
                Seed = null,
            });
        }, device);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc />
    public (int Channels, int Height, int Width) InputShape { get; }

    /// <summary>The normalisation applied to inputs, or null.</summary>
    public ChannelStatistics? Normalization { get; }

    /// <summary>The device the model runs on.</summary>
    public Device Device { get; }

    /// <summary>Whether predictions average an image with its mirror.</summary>
    public bool HorizontalFlipTta { get; }

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
            var p = Evaluation.Evaluator.Predict(_model, x, HorizontalFlipTta);
            return p.cpu().data<float>().ToArray();
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
