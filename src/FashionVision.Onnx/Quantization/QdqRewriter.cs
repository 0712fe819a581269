using System.Runtime.InteropServices;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using DataType = FashionVision.Onnx.Protobuf.TensorProto.Types.DataType;

namespace FashionVision.Onnx;

/// <summary>
/// Plans and performs the QDQ rewrite of one FP32 graph: which activations get a QuantizeLinear/DequantizeLinear pair (and
/// whose calibrated range each one uses), which ReLUs fold into the quantization before them, and which Conv/Gemm weights
/// become per-channel int8. Post-training quantization and quantization-aware training share this plan, so the graph a
/// model is trained with is the graph ONNX Runtime runs.
/// </summary>
internal sealed class QdqRewriter
{
    private static readonly HashSet<string> QuantizedConsumers =
        ["Conv", "Gemm", "MatMul", "Add", "Mul", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape"];

    private static readonly HashSet<string> RangePreservingOps = ["MaxPool", "Flatten", "Reshape"];

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

    public QdqRewriter(ModelProto model, OnnxQuantizationOptions options, Int8TargetChoice target)
    {
        _model = model;
        _options = options;
        Target = target;
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

    /// <summary>The activation tensors that get a Q/DQ pair, each with the tensor whose calibrated range it uses.</summary>
    public IReadOnlyDictionary<string, string> RangeSources => _rangeSource;

    /// <summary>The INT8 target the weights are quantized for (their range: ±<see cref="Int8TargetChoice.WeightMax"/>).</summary>
    public Int8TargetChoice Target { get; }

    /// <summary>The activation type of the plan.</summary>
    public ActivationQuantizationType ActivationType => _options.ActivationType;

    /// <summary>
    /// The output-channel axis of the weight of a Conv or Gemm whose weight the rewrite stores as int8, or null when the
    /// node's weight stays float (another operator, or a weight that is not a float initializer).
    /// </summary>
    public int? QuantizedWeightAxis(NodeProto node)
    {
        if (node.OpType is not ("Conv" or "Gemm") || node.Input.Count < 2 || !_initializers.TryGetValue(node.Input[1], out var weight) ||
            weight.DataType != (int)DataType.Float)
            return null;
        // Conv weights are [out, in/groups, kh, kw]; Gemm with transB = 1 stores [out, in], else [in, out].
        var transB = node.OpType == "Gemm" && node.Attribute.Any(a => a.Name == "transB" && a.I == 1);
        return node.OpType == "Gemm" && !transB ? 1 : 0;
    }

    /// <summary>
    /// Whether the bias of a node whose weight is quantized becomes int32 (at scale input scale × weight scale, so the integer
    /// kernel adds it directly): a float 1-D bias of one value per output channel, and a quantized input.
    /// </summary>
    public bool QuantizesBias(NodeProto node)
    {
        if (QuantizedWeightAxis(node) is not { } axis || node.Input.Count < 3 || !_initializers.TryGetValue(node.Input[2], out var bias) ||
            bias.DataType != (int)DataType.Float || !_rangeSource.ContainsKey(node.Input[0]))
            return false;
        var channels = _initializers[node.Input[1]].Dims[axis];
        return bias.Dims.Count == 1 && bias.Dims[0] == channels;
    }

    /// <summary>The scale and zero point of an activation whose calibrated range is [min, max].</summary>
    public (float Scale, int ZeroPoint) ActivationParameters((float Min, float Max) range) =>
        QuantizationMath.ActivationParameters(range.Min, range.Max, _options.ActivationType);

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
            var (scale, zeroPoint) = ActivationParameters(ranges[_rangeSource[tensor]]);
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
        if (QuantizedWeightAxis(original) is not { } axis)
            return;
        var weight = _initializers[original.Input[1]];
        var values = FloatValues(weight);
        var dims = weight.Dims.ToArray();
        var channels = (int)dims[axis];
        var scales = new float[channels];
        var quantized = new sbyte[values.Length];
        var inner = axis == 0 ? values.Length / channels : 1;
        var outer = axis == 0 ? 1 : (int)dims[0];
        for (var c = 0; c < channels; c++)
        {
            var maxAbs = 0f;
            foreach (var index in ChannelIndices(c, axis, channels, inner, outer)) maxAbs = Math.Max(maxAbs, Math.Abs(values[index]));
            var scale = QuantizationMath.WeightScale(maxAbs, Target.WeightMax);
            scales[c] = scale;
            foreach (var index in ChannelIndices(c, axis, channels, inner, outer))
                quantized[index] = (sbyte)Math.Clamp(MathF.Round(values[index] / scale), -Target.WeightMax, Target.WeightMax);
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
        if (!QuantizesBias(original))
            return;
        var inputParams = activationParams[original.Input[0]];
        var bias = _initializers[original.Input[2]];
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

    private TensorProto ZeroPoint(string name, int value) => _options.ActivationType == ActivationQuantizationType.UInt8
        ? Raw(name, DataType.Uint8, [], [(byte)value])
        : Raw(name, DataType.Int8, [], [unchecked((byte)(sbyte)value)]);

    internal static float[] FloatValues(TensorProto tensor)
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
