using System.Globalization;
using System.Text.Json;
using FashionVision.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace FashionVision.Onnx;

/// <summary>
/// Classifies images with an ONNX model in ONNX Runtime: FP32 from <see cref="OnnxExporter"/> or INT8 from
/// <see cref="OnnxQuantizer"/>. Reads the class names and the normalization from the model's metadata and applies the
/// normalization itself, so callers pass pixels in [0, 1]. Safe to call from many threads at once (one ONNX Runtime session
/// serves concurrent runs; each call has its own buffers).
/// </summary>
public sealed class OnnxPredictor : IPredictor
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly float[] _scale;
    private readonly float[] _offset;
    private readonly long _fixedBatch;
    private volatile bool _disposed;

    private OnnxPredictor(InferenceSession session, string path, OnnxPredictorOptions options)
    {
        _session = session;
        if (session.InputNames.Count != 1 || session.OutputNames.Count != 1)
            throw new OnnxFormatException(path, $"an image classifier has one input and one output; this model has {session.InputNames.Count} and {session.OutputNames.Count}.");
        _inputName = session.InputNames[0];
        _outputName = session.OutputNames[0];

        var input = session.InputMetadata[_inputName];
        var dims = input.Dimensions;
        if (input.ElementDataType != TensorElementType.Float || dims.Length != 4 || dims.Skip(1).Any(d => d <= 0))
            throw new OnnxFormatException(path,
                $"its input '{_inputName}' is {input.ElementDataType} [{string.Join(", ", dims)}]; an image classifier takes float N×C×H×W with fixed C, H and W.");
        InputShape = (dims[1], dims[2], dims[3]);
        _fixedBatch = dims[0] > 0 ? dims[0] : 0;
        if (options.ExpectedInputShape is { } expected && expected != InputShape)
            throw new OnnxFormatException(path,
                $"the model takes {InputShape.Channels}×{InputShape.Height}×{InputShape.Width} images, not the expected {expected.Channels}×{expected.Height}×{expected.Width}.");

        var output = session.OutputMetadata[_outputName];
        if (output.ElementDataType != TensorElementType.Float || output.Dimensions.Length != 2 || output.Dimensions[1] <= 0)
            throw new OnnxFormatException(path,
                $"its output '{_outputName}' is {output.ElementDataType} [{string.Join(", ", output.Dimensions)}]; a classifier returns float logits N×classes.");
        var classes = output.Dimensions[1];

        var metadata = session.ModelMetadata.CustomMetadataMap;
        ClassNames = ReadJson<string[]>(path, metadata, OnnxMetadataKeys.ClassNames)
                     ?? Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (ClassNames.Count != classes)
            throw new OnnxFormatException(path, $"its metadata names {ClassNames.Count} classes but the model has {classes} outputs.");

        var mean = ReadJson<float[]>(path, metadata, OnnxMetadataKeys.Mean) ?? Enumerable.Repeat(0f, InputShape.Channels).ToArray();
        var std = ReadJson<float[]>(path, metadata, OnnxMetadataKeys.Std) ?? Enumerable.Repeat(1f, InputShape.Channels).ToArray();
        if (mean.Length != InputShape.Channels || std.Length != InputShape.Channels || std.Any(s => !(s > 0)))
            throw new OnnxFormatException(path, $"its normalization metadata does not fit {InputShape.Channels} channels with positive standard deviations.");
        // (x - mean) / std = x * (1 / std) + (-mean / std)
        _scale = std.Select(s => 1f / s).ToArray();
        _offset = mean.Select((m, c) => -m / std[c]).ToArray();
    }

    /// <summary>Loads the model at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxFormatException">The file is not an ONNX image classifier (or not of the expected input shape).</exception>
    public static OnnxPredictor Load(string path, OnnxPredictorOptions? options = null)
    {
        options ??= new OnnxPredictorOptions();
        options.Validate();
        var bytes = OnnxModelFile.ReadBytes(path);
        OnnxModelFile.Parse(path, bytes);
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (options.IntraOpThreads > 0)
            sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
        var session = OnnxModelFile.OpenSession(path, bytes, sessionOptions);
        try
        {
            return new OnnxPredictor(session, path, options);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames { get; }

    /// <inheritdoc />
    public (int Channels, int Height, int Width) InputShape { get; }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> Predict(ReadOnlySpan<float> pixels, int count, int topK = 3)
    {
        var logits = PredictLogits(pixels, count);
        var classes = ClassNames.Count;
        topK = Math.Min(topK, classes);
        var predictions = new Prediction[count];
        for (var n = 0; n < count; n++)
            predictions[n] = ToPrediction(logits.AsSpan(n * classes, classes), topK);
        return predictions;
    }

    /// <summary>Runs the model and returns the logits, N×classes row-major.</summary>
    /// <param name="pixels">Pixel intensities in [0, 1], N×C×H×W row-major.</param>
    /// <param name="count">The number of images N.</param>
    public float[] PredictLogits(ReadOnlySpan<float> pixels, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "The number of images must be positive.");
        var (channels, height, width) = InputShape;
        var plane = height * width;
        var perImage = channels * plane;
        if (pixels.Length != (long)count * perImage)
            throw new ArgumentException(
                $"{count} images of {channels}×{height}×{width} need {(long)count * perImage} values, not {pixels.Length}.", nameof(pixels));

        var batch = _fixedBatch > 0 ? (int)_fixedBatch : count;
        var classes = ClassNames.Count;
        var logits = new float[count * classes];
        var buffer = new float[batch * perImage];
        for (var start = 0; start < count; start += batch)
        {
            var take = Math.Min(batch, count - start);
            Normalize(pixels.Slice(start * perImage, take * perImage), buffer, plane);
            buffer.AsSpan(take * perImage).Clear();
            using var input = OrtValue.CreateTensorValueFromMemory(buffer, [batch, channels, height, width]);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, [_inputName], [input], [_outputName]);
            outputs[0].GetTensorDataAsSpan<float>()[..(take * classes)].CopyTo(logits.AsSpan(start * classes));
        }
        return logits;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
    }

    private void Normalize(ReadOnlySpan<float> source, Span<float> destination, int plane)
    {
        var channels = _scale.Length;
        for (int offset = 0, c = 0; offset < source.Length; offset += plane, c = (c + 1) % channels)
        {
            var scale = _scale[c];
            var shift = _offset[c];
            var from = source.Slice(offset, plane);
            var to = destination.Slice(offset, plane);
            for (var i = 0; i < plane; i++)
                to[i] = from[i] * scale + shift;
        }
    }

    private Prediction ToPrediction(ReadOnlySpan<float> logits, int topK)
    {
        var max = float.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        var probabilities = new float[logits.Length];
        var sum = 0.0;
        for (var k = 0; k < logits.Length; k++)
            sum += probabilities[k] = MathF.Exp(logits[k] - max);
        for (var k = 0; k < probabilities.Length; k++)
            probabilities[k] = (float)(probabilities[k] / sum);

        var order = Enumerable.Range(0, probabilities.Length).OrderByDescending(k => probabilities[k]).ThenBy(k => k).Take(Math.Max(topK, 1)).ToArray();
        var best = order[0];
        var top = order.Take(topK).Select(k => new ClassProbability(k, ClassNames[k], probabilities[k])).ToArray();
        return new Prediction(best, ClassNames[best], probabilities, top);
    }

    private static T? ReadJson<T>(string path, IReadOnlyDictionary<string, string> metadata, string key) where T : class
    {
        if (!metadata.TryGetValue(key, out var json))
            return null;
        try
        {
            return JsonSerializer.Deserialize<T>(json);
        }
        catch (JsonException e)
        {
            throw new OnnxFormatException(path, $"its metadata '{key}' is not valid JSON of the expected kind ({e.Message}).", e);
        }
    }
}
