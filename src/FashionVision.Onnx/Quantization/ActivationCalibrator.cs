using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace FashionVision.Onnx;

/// <summary>
/// Measures the range of chosen intermediate tensors over calibration images: a copy of the model that exposes those tensors
/// as extra outputs runs in ONNX Runtime, batch by batch, and their values feed a min/max or a histogram.
/// </summary>
internal sealed class ActivationCalibrator
{
    private readonly ModelProto _model;
    private readonly IReadOnlyList<string> _tensors;
    private readonly OnnxQuantizationOptions _options;

    public ActivationCalibrator(ModelProto model, IReadOnlyList<string> tensors, OnnxQuantizationOptions options)
    {
        _model = model;
        _tensors = tensors;
        _options = options;
    }

    /// <summary>The calibrated range [min, max] of each tensor, always including 0.</summary>
    public Dictionary<string, (float Min, float Max)> Calibrate(float[] images, int count, int[] imageShape)
    {
        var augmented = _model.Clone();
        var existingOutputs = augmented.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in _tensors.Where(t => !existingOutputs.Contains(t)))
            augmented.Graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });

        // No graph optimizations: the exposed tensors must be exactly the ones the quantized graph will carry.
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(augmented.ToByteArray(), sessionOptions);
        var inputName = _model.Graph.Input[0].Name;

        var minMax = _tensors.ToDictionary(t => t, _ => (Min: float.PositiveInfinity, Max: float.NegativeInfinity));
        ForEachBatch(session, inputName, images, count, imageShape, (name, values) =>
        {
            var (min, max) = minMax[name];
            foreach (var v in values)
            {
                if (v < min) min = v;
                if (v > max) max = v;
            }
            minMax[name] = (min, max);
        });

        if (_options.Method == CalibrationMethod.MinMax)
            return minMax.ToDictionary(p => p.Key, p => IncludeZero(p.Value.Min, p.Value.Max));

        // Second pass: a histogram over each tensor's [min, max]; the range becomes the percentile points.
        var bins = _options.HistogramBins;
        var histograms = _tensors.ToDictionary(t => t, _ => new long[bins]);
        ForEachBatch(session, inputName, images, count, imageShape, (name, values) =>
        {
            var (min, max) = minMax[name];
            var histogram = histograms[name];
            var width = (max - min) / bins;
            if (!(width > 0))
            {
                histogram[0] += values.Length;
                return;
            }
            foreach (var v in values)
                histogram[Math.Clamp((int)((v - min) / width), 0, bins - 1)]++;
        });

        var ranges = new Dictionary<string, (float, float)>();
        foreach (var name in _tensors)
        {
            var (min, max) = minMax[name];
            var histogram = histograms[name];
            var total = histogram.Sum();
            var width = (max - min) / bins;
            if (total == 0 || !(width > 0))
            {
                ranges[name] = IncludeZero(min, max);
                continue;
            }
            var tail = (long)Math.Floor(total * (100 - _options.Percentile) / 100);
            int low = 0, high = bins - 1;
            for (long seen = 0; low < bins - 1 && seen + histogram[low] <= tail; low++) seen += histogram[low];
            for (long seen = 0; high > 0 && seen + histogram[high] <= tail; high--) seen += histogram[high];
            ranges[name] = IncludeZero(min + low * width, min + (high + 1) * width);
        }
        return ranges;
    }

    private void ForEachBatch(InferenceSession session, string inputName, float[] images, int count, int[] imageShape, Action<string, ReadOnlySpan<float>> observe)
    {
        var perImage = imageShape.Aggregate(1, (p, d) => p * d);
        var names = _tensors.ToArray();
        for (var start = 0; start < count; start += _options.CalibrationBatchSize)
        {
            var take = Math.Min(_options.CalibrationBatchSize, count - start);
            var memory = new Memory<float>(images, start * perImage, take * perImage);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory,
                [take, .. imageShape.Select(d => (long)d)]);
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, [inputName], [input], names);
            for (var i = 0; i < names.Length; i++)
                observe(names[i], outputs[i].GetTensorDataAsSpan<float>());
        }
    }

    private static (float, float) IncludeZero(float min, float max) =>
        float.IsFinite(min) && float.IsFinite(max) ? (Math.Min(min, 0f), Math.Max(max, 0f)) : (0f, 0f);
}
