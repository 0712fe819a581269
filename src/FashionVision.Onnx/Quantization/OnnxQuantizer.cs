using System.Runtime.InteropServices;
using System.Text.Json;
using FashionVision.IO;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using static TorchSharp.torch;
using DataType = FashionVision.Onnx.Protobuf.TensorProto.Types.DataType;

namespace FashionVision.Onnx;

/// <summary>
/// Post-training static INT8 quantization of an FP32 ONNX classifier in the QDQ format: Conv and Gemm weights become
/// per-channel symmetric int8 initializers (the file shrinks about 4×) with int32 biases, and activations get
/// QuantizeLinear/DequantizeLinear pairs whose scales come from calibration images. ONNX Runtime fuses the pairs into integer
/// kernels (QLinearConv, QGemm, ...).
/// </summary>
/// <remarks>
/// A ReLU right after a Conv, Gemm or Add is folded into the quantization of its output (a uint8 zero point of 0 clamps negatives
/// exactly as ReLU does). Value-preserving operators (MaxPool, Flatten, Reshape) reuse their input's scale, so ONNX Runtime can
/// run them on integers.
/// </remarks>
public static class OnnxQuantizer
{
    /// <summary>The metadata value of <see cref="OnnxMetadataKeys.Quantization"/> in quantized models.</summary>
    public const string QdqInt8 = "qdq-int8";

    private static readonly HashSet<string> QuantizedConsumers =
        ["Conv", "Gemm", "MatMul", "Add", "Mul", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape"];

    private static readonly HashSet<string> RangePreservingOps = ["MaxPool", "Flatten", "Reshape"];

    /// <summary>Quantizes the FP32 model at <paramref name="inputPath"/> into <paramref name="outputPath"/>.</summary>
    /// <param name="inputPath">An FP32 model (from <see cref="OnnxExporter"/>).</param>
    /// <param name="outputPath">The INT8 model to write (atomically).</param>
    /// <param name="calibrationImages">Calibration images N×C×H×W; pixels in [0, 1] unless <see cref="OnnxQuantizationOptions.ApplyModelNormalization"/> is off.</param>
    /// <param name="options">Calibration and type options. Null: min/max calibration, uint8 activations.</param>
    /// <exception cref="FileNotFoundException">The input model does not exist.</exception>
    /// <exception cref="OnnxFormatException">The input is not an FP32 ONNX model, or it is already quantized.</exception>
    public static OnnxQuantizationReport QuantizeStatic(string inputPath, string outputPath, Tensor calibrationImages, OnnxQuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calibrationImages);
        if (calibrationImages.dim() != 4)
            throw new ArgumentException($"Calibration images must be N×C×H×W, not [{string.Join(", ", calibrationImages.shape)}].", nameof(calibrationImages));
        using var contiguous = calibrationImages.detach().cpu().to(float32).contiguous();
        return QuantizeStatic(inputPath, outputPath, contiguous.data<float>().ToArray(), (int)calibrationImages.shape[0], options);
    }

    /// <summary>Quantizes the FP32 model at <paramref name="inputPath"/> into <paramref name="outputPath"/>.</summary>
    /// <param name="inputPath">An FP32 model (from <see cref="OnnxExporter"/>).</param>
    /// <param name="outputPath">The INT8 model to write (atomically).</param>
    /// <param name="calibrationImages">Calibration images N×C×H×W row-major, in the model's input shape.</param>
    /// <param name="count">The number of images N.</param>
    /// <param name="options">Calibration and type options. Null: min/max calibration, uint8 activations.</param>
    public static OnnxQuantizationReport QuantizeStatic(string inputPath, string outputPath, float[] calibrationImages, int count, OnnxQuantizationOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(calibrationImages);
        options ??= new OnnxQuantizationOptions();
        options.Validate();
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "At least one calibration image is needed.");

        var bytes = OnnxModelFile.ReadBytes(inputPath);
        var model = OnnxModelFile.Parse(inputPath, bytes);
        if (model.Graph.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"))
            throw new OnnxFormatException(inputPath, "it is already quantized.");
        var imageShape = InputImageShape(inputPath, model);
        var perImage = imageShape.Aggregate(1, (p, d) => p * d);
        if (calibrationImages.Length != (long)count * perImage)
            throw new ArgumentException(
                $"{count} calibration images of {string.Join("×", imageShape)} need {(long)count * perImage} values, not {calibrationImages.Length}.", nameof(calibrationImages));

        var images = options.ApplyModelNormalization ? Normalize(model, calibrationImages, imageShape) : calibrationImages;
        var rewriter = new QdqRewriter(model, options);
        var ranges = new ActivationCalibrator(model, rewriter.CalibratedTensors, options).Calibrate(images, count, imageShape);
        var quantized = rewriter.Rewrite(ranges);
        SetMetadata(quantized, OnnxMetadataKeys.Quantization, QdqInt8);

        var output = quantized.ToByteArray();
        AtomicFile.Write(outputPath, stream => stream.Write(output));
        return new OnnxQuantizationReport(bytes.LongLength, output.LongLength, rewriter.QuantizedWeights, rewriter.QuantizedActivations, count);
    }

    private static int[] InputImageShape(string path, ModelProto model)
    {
        var dims = model.Graph.Input[0].Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count != 4 || dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue <= 0))
            throw new OnnxFormatException(path, "its input is not N×C×H×W with fixed C, H and W.");
        return dims.Skip(1).Select(d => (int)d.DimValue).ToArray();
    }

    private static float[] Normalize(ModelProto model, float[] pixels, int[] imageShape)
    {
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        if (!metadata.TryGetValue(OnnxMetadataKeys.Mean, out var meanJson) || !metadata.TryGetValue(OnnxMetadataKeys.Std, out var stdJson))
            return pixels;
        var mean = JsonSerializer.Deserialize<float[]>(meanJson)!;
        var std = JsonSerializer.Deserialize<float[]>(stdJson)!;
        var channels = imageShape[0];
        var plane = imageShape[1] * imageShape[2];
        var result = new float[pixels.Length];
        for (var offset = 0; offset < pixels.Length; offset += plane)
        {
            var c = offset / plane % channels;
            for (var i = 0; i < plane; i++)
                result[offset + i] = (pixels[offset + i] - mean[c]) / std[c];
        }
        return result;
    }

    internal static void SetMetadata(ModelProto model, string key, string value)
    {
        var existing = model.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (existing is not null) existing.Value = value;
        else model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
    }

    /// <summary>Plans and performs the QDQ rewrite of one graph.</summary>
    private sealed class QdqRewriter
    {
        private readonly ModelProto _model;
        private readonly OnnxQuantizationOptions _options;
        private readonly Dictionary<string, TensorProto> _initializers;
        private readonly Dictionary<string, NodeProto> _producers = new();
        private readonly Dictionary<string, List<NodeProto>> _consumers = new();
        private readonly HashSet<string> _graphOutputs;

        // Relu nodes folded away: Relu output -> the Conv/Gemm output that now carries the quantization.
        private readonly Dictionary<string, string> _foldedRelu = new();
        private readonly HashSet<NodeProto> _removedNodes = [];
        // Activation tensors that get a Q/DQ pair, and where each one's range comes from.
        private readonly List<string> _quantized = [];
        private readonly Dictionary<string, string> _rangeSource = new();

        public QdqRewriter(ModelProto model, OnnxQuantizationOptions options)
        {
            _model = model;
            _options = options;
            var graph = model.Graph;
            _initializers = graph.Initializer.ToDictionary(t => t.Name);
            _graphOutputs = graph.Output.Select(o => o.Name).ToHashSet();
            foreach (var node in graph.Node)
            {
                foreach (var output in node.Output) _producers[output] = node;
                foreach (var input in node.Input.Where(i => i.Length > 0))
                {
                    if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = [];
                    list.Add(node);
                }
            }
            Plan();
        }

        public IReadOnlyList<string> CalibratedTensors => _rangeSource.Values.Distinct().ToArray();

        public int QuantizedWeights { get; private set; }

        public int QuantizedActivations => _quantized.Count;

        private void Plan()
        {
            var graph = _model.Graph;
            foreach (var node in graph.Node.Where(n => n.OpType == "Relu"))
            {
                var input = node.Input[0];
                if (_producers.TryGetValue(input, out var producer) && producer.OpType is "Conv" or "Gemm" or "Add" &&
                    _consumers[input].Count == 1 && !_graphOutputs.Contains(input) && !_graphOutputs.Contains(node.Output[0]))
                {
                    _foldedRelu[node.Output[0]] = input;
                    _removedNodes.Add(node);
                }
            }

            var activations = new List<string> { graph.Input[0].Name };
            activations.AddRange(graph.Node.Where(n => !_removedNodes.Contains(n)).SelectMany(n => n.Output));
            activations.AddRange(_foldedRelu.Keys);
            foreach (var tensor in activations.Distinct())
            {
                if (_graphOutputs.Contains(tensor) || _initializers.ContainsKey(tensor))
                    continue;
                var consumers = _consumers.GetValueOrDefault(tensor) ?? [];
                if (!_foldedRelu.ContainsKey(tensor) && !consumers.Any(c => QuantizedConsumers.Contains(c.OpType)))
                    continue;
                _quantized.Add(tensor);
            }

            // Range sources: a value-preserving op's output takes its (quantized) input's range.
            foreach (var tensor in _quantized)
                _rangeSource[tensor] = RangeSource(tensor);
        }

        private string RangeSource(string tensor)
        {
            var current = tensor;
            while (_producers.TryGetValue(current, out var producer) && RangePreservingOps.Contains(producer.OpType)
                   && _quantized.Contains(producer.Input[0]))
                current = producer.Input[0];
            return current;
        }

        public ModelProto Rewrite(Dictionary<string, (float Min, float Max)> ranges)
        {
            var graph = _model.Graph.Clone();
            var nodes = graph.Node.ToList();
            graph.Node.Clear();
            var result = _model.Clone();
            result.Graph = graph;

            var activationParams = new Dictionary<string, (float Scale, string ScaleName, string ZeroPointName)>();
            foreach (var tensor in _quantized)
            {
                var (min, max) = ranges[_rangeSource[tensor]];
                var (scale, zeroPoint) = ActivationParameters(min, max);
                var scaleName = tensor + "_scale";
                var zeroPointName = tensor + "_zp";
                graph.Initializer.Add(Scalar(scaleName, scale));
                graph.Initializer.Add(ZeroPoint(zeroPointName, zeroPoint));
                activationParams[tensor] = (scale, scaleName, zeroPointName);
            }

            // Activation pairs get short names and no node names: there is one pair per activation and the file stays small.
            string Dequantized(string tensor) => activationParams.ContainsKey(tensor) ? tensor + "_dq" : tensor;

            void EmitQdq(string tensor)
            {
                var (_, scaleName, zeroPointName) = activationParams[tensor];
                var source = _foldedRelu.GetValueOrDefault(tensor, tensor);
                graph.Node.Add(Node("QuantizeLinear", null, [source, scaleName, zeroPointName], tensor + "_q"));
                graph.Node.Add(Node("DequantizeLinear", null, [tensor + "_q", scaleName, zeroPointName], tensor + "_dq"));
            }

            var inputName = graph.Input[0].Name;
            if (activationParams.ContainsKey(inputName))
                EmitQdq(inputName);

            var replacedWeights = new HashSet<string>();
            foreach (var original in nodes)
            {
                if (_removedNodes.Any(r => r.Name == original.Name && r.Output[0] == original.Output[0]))
                {
                    // The folded Relu's quantization is emitted after the Conv/Gemm that feeds it.
                    continue;
                }
                var node = original.Clone();
                for (var i = 0; i < node.Input.Count; i++)
                    node.Input[i] = Dequantized(node.Input[i]);

                if (node.OpType is "Conv" or "Gemm" && node.Input.Count >= 2 && _initializers.ContainsKey(original.Input[1]))
                    QuantizeWeights(graph, node, original, activationParams, replacedWeights);

                graph.Node.Add(node);
                foreach (var output in original.Output)
                {
                    if (activationParams.ContainsKey(output))
                        EmitQdq(output);
                    var folded = _foldedRelu.FirstOrDefault(p => p.Value == output).Key;
                    if (folded is not null && activationParams.ContainsKey(folded))
                        EmitQdq(folded);
                }
            }

            // Float initializers that were replaced by int8 ones are dropped.
            var unused = graph.Initializer.Where(t => replacedWeights.Contains(t.Name) &&
                                                      !graph.Node.Any(n => n.Input.Contains(t.Name))).ToList();
            foreach (var t in unused) graph.Initializer.Remove(t);
            return result;
        }

        private void QuantizeWeights(GraphProto graph, NodeProto node, NodeProto original,
            Dictionary<string, (float Scale, string ScaleName, string ZeroPointName)> activationParams, HashSet<string> replacedWeights)
        {
            var weight = _initializers[original.Input[1]];
            if (weight.DataType != (int)DataType.Float)
                return;
            var values = FloatValues(weight);
            var dims = weight.Dims.ToArray();
            // Per output channel: Conv weights are [out, in/groups, kh, kw]; Gemm with transB = 1 stores [out, in], else [in, out].
            var transB = node.OpType == "Gemm" && node.Attribute.Any(a => a.Name == "transB" && a.I == 1);
            var axis = node.OpType == "Gemm" && !transB ? 1 : 0;
            var channels = (int)dims[axis];
            var scales = new float[channels];
            var quantized = new sbyte[values.Length];
            var inner = axis == 0 ? values.Length / channels : 1;
            var outer = axis == 0 ? 1 : (int)dims[0];
            for (var c = 0; c < channels; c++)
            {
                var maxAbs = 0f;
                foreach (var index in ChannelIndices(c, axis, channels, inner, outer)) maxAbs = Math.Max(maxAbs, Math.Abs(values[index]));
                var scale = maxAbs > 0 ? maxAbs / 127f : 1f;
                scales[c] = scale;
                foreach (var index in ChannelIndices(c, axis, channels, inner, outer))
                    quantized[index] = (sbyte)Math.Clamp(MathF.Round(values[index] / scale), -127, 127);
            }

            var name = original.Input[1];
            graph.Initializer.Add(Raw(name + "_quantized", DataType.Int8, dims, MemoryMarshal.AsBytes(quantized.AsSpan())));
            graph.Initializer.Add(Raw(name + "_scale", DataType.Float, [channels], MemoryMarshal.AsBytes(scales.AsSpan())));
            graph.Initializer.Add(Raw(name + "_zero_point", DataType.Int8, [channels], new byte[channels]));
            graph.Node.Add(Node("DequantizeLinear", name + "_DequantizeLinear", [name + "_quantized", name + "_scale", name + "_zero_point"],
                name + "_dequantized", OnnxAttribute.Int("axis", axis).Proto));
            node.Input[1] = name + "_dequantized";
            replacedWeights.Add(name);
            QuantizedWeights++;

            // The bias becomes int32 at scale input_scale × weight_scale, so the integer kernel can add it directly.
            var inputTensor = original.Input[0];
            if (node.Input.Count < 3 || !_initializers.TryGetValue(original.Input[2], out var bias) || bias.DataType != (int)DataType.Float ||
                !activationParams.TryGetValue(inputTensor, out var inputParams) || bias.Dims.Count != 1 || bias.Dims[0] != channels)
                return;
            var biasValues = FloatValues(bias);
            var biasScales = scales.Select(s => s * inputParams.Scale).ToArray();
            var biasQuantized = biasValues.Select((b, c) => (int)Math.Clamp(Math.Round(b / (double)biasScales[c]), int.MinValue, int.MaxValue)).ToArray();
            var biasName = original.Input[2];
            graph.Initializer.Add(Raw(biasName + "_quantized", DataType.Int32, [channels], MemoryMarshal.AsBytes(biasQuantized.AsSpan())));
            graph.Initializer.Add(Raw(biasName + "_scale", DataType.Float, [channels], MemoryMarshal.AsBytes(biasScales.AsSpan())));
            // No zero point: DequantizeLinear then takes 0 of the input's type (int32).
            graph.Node.Add(Node("DequantizeLinear", biasName + "_DequantizeLinear", [biasName + "_quantized", biasName + "_scale"],
                biasName + "_dequantized", OnnxAttribute.Int("axis", 0).Proto));
            node.Input[2] = biasName + "_dequantized";
            replacedWeights.Add(biasName);
        }

        private static IEnumerable<int> ChannelIndices(int channel, int axis, int channels, int inner, int outer)
        {
            if (axis == 0)
            {
                for (var i = 0; i < inner; i++) yield return channel * inner + i;
            }
            else
            {
                for (var row = 0; row < outer; row++) yield return row * channels + channel;
            }
        }

        private (float Scale, int ZeroPoint) ActivationParameters(float min, float max)
        {
            var (qmin, qmax) = _options.ActivationType == ActivationQuantizationType.UInt8 ? (0, 255) : (-128, 127);
            var scale = (max - min) / (qmax - qmin);
            if (!(scale > 0)) return (1f, _options.ActivationType == ActivationQuantizationType.UInt8 ? 0 : 0);
            var zeroPoint = (int)Math.Clamp(Math.Round(qmin - min / scale), qmin, qmax);
            return (scale, zeroPoint);
        }

        private TensorProto ZeroPoint(string name, int value) => _options.ActivationType == ActivationQuantizationType.UInt8
            ? Raw(name, DataType.Uint8, [], [(byte)value])
            : Raw(name, DataType.Int8, [], [unchecked((byte)(sbyte)value)]);
    }

    private static float[] FloatValues(TensorProto tensor)
    {
        if (tensor.RawData is { Length: > 0 } raw)
            return MemoryMarshal.Cast<byte, float>(raw.Span).ToArray();
        return tensor.FloatData.ToArray();
    }

    private static TensorProto Scalar(string name, float value) => Raw(name, DataType.Float, [], BitConverter.GetBytes(value));

    private static TensorProto Raw(string name, DataType type, long[] dims, ReadOnlySpan<byte> data)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(data) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }

    private static NodeProto Node(string opType, string? name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType };
        if (name is not null) node.Name = name;
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }
}
