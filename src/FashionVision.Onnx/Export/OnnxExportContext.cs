using System.Runtime.InteropServices;
using System.Text;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// The graph an <see cref="IOnnxModuleConverter"/> writes into. It names values and nodes after the module path
/// (<c>layer1.0.conv1</c>), stores parameters as initializers under their state-dict names, and computes every value's
/// TorchSharp sample alongside the ONNX node, so converters know shapes and the exporter can check each converter against
/// the module's own forward pass.
/// </summary>
public sealed class OnnxExportContext
{
    private const double SampleTolerance = 1e-4;

    private readonly OnnxConverterRegistry _registry;
    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<string> _path = [];

    internal OnnxExportContext(OnnxConverterRegistry registry, OnnxExportOptions options, GraphProto graph)
    {
        _registry = registry;
        Options = options;
        _graph = graph;
    }

    /// <summary>The export options.</summary>
    public OnnxExportOptions Options { get; }

    /// <summary>The default-domain opset being written (operators whose signature changed between opsets check it).</summary>
    public int Opset => Options.Opset;

    /// <summary>The dotted path of the module being converted (<c>""</c> at the root).</summary>
    public string CurrentPath => string.Join('.', _path.Where(p => p.Length > 0));

    /// <summary>
    /// Converts a child module with its registered converter. <paramref name="name"/> is its name in the parent (as in the
    /// state dict), so initializers get their state-dict names.
    /// </summary>
    /// <exception cref="NotSupportedException">No converter is registered for the module's type.</exception>
    public OnnxValue Convert(nn.Module module, OnnxValue input, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(name);
        _path.Add(name);
        try
        {
            if (!_registry.TryGetConverter(module.GetType(), out var converter))
                throw Unsupported(module);
            var output = converter.Convert(this, module, input);
            CheckAgainstForward(module, input, output, converter);
            return output;
        }
        finally
        {
            _path.RemoveAt(_path.Count - 1);
        }
    }

    /// <summary>
    /// Converts a convolution and the BatchNorm2d that follows it (null: none). With <see cref="OnnxExportOptions.FoldBatchNorm"/>
    /// the normalization is folded into the convolution's weight and bias, else a <c>BatchNormalization</c> node follows.
    /// </summary>
    public OnnxValue ConvertConvolution(Conv2d convolution, BatchNorm2d? batchNorm, OnnxValue input, string convolutionName, string? batchNormName = null)
    {
        ArgumentNullException.ThrowIfNull(convolution);
        ArgumentNullException.ThrowIfNull(input);
        if (batchNorm is null || !Options.FoldBatchNorm)
        {
            var convolved = Convert(convolution, input, convolutionName);
            return batchNorm is null ? convolved : Convert(batchNorm, convolved, batchNormName ?? convolutionName + "_bn");
        }

        _path.Add(convolutionName);
        try
        {
            var weight = convolution.weight!.detach().to(float64);
            var bias = convolution.bias is null ? zeros(weight.shape[0], dtype: float64) : convolution.bias.detach().to(float64);
            var (scale, shift) = BatchNormAffine(batchNorm);
            var foldedWeight = (weight * scale.reshape(-1, 1, 1, 1)).to(float32);
            var foldedBias = (bias * scale + shift).to(float32);
            var expected = batchNorm.call(convolution.call(input.Sample));
            return EmitConvolution(convolution, input, foldedWeight, foldedBias, expected);
        }
        finally
        {
            _path.RemoveAt(_path.Count - 1);
        }
    }

    /// <summary>Adds a constant tensor (a weight) to the graph under a unique name derived from <paramref name="name"/>.</summary>
    public OnnxValue AddInitializer(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        var unique = UniqueName(name);
        _graph.Initializer.Add(OnnxTensors.ToProto(unique, value));
        return new OnnxValue(unique, value.detach());
    }

    /// <summary>
    /// Adds a node of any default-domain operator. <paramref name="sampleOutput"/> is the TorchSharp value the operator
    /// produces for the inputs' samples (the caller computes it with the equivalent TorchSharp operations). A null input
    /// is an omitted optional input (an empty name), e.g. <c>Resize</c>'s <c>roi</c>.
    /// </summary>
    public OnnxValue AddNode(string opType, IReadOnlyList<OnnxValue?> inputs, Tensor sampleOutput, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(sampleOutput);
        var prefix = CurrentPath.Length == 0 ? opType : $"{CurrentPath}/{opType}";
        var output = UniqueName(prefix + "_output");
        var node = new NodeProto { OpType = opType, Name = UniqueName(prefix) };
        node.Input.AddRange(inputs.Select(i => i?.Name ?? ""));
        node.Output.Add(output);
        node.Attribute.AddRange(attributes.Select(a => a.Proto));
        _graph.Node.Add(node);
        return new OnnxValue(output, sampleOutput);
    }

    /// <summary>Element-wise sum with broadcasting (residual connections).</summary>
    public OnnxValue Add(OnnxValue a, OnnxValue b) => AddNode("Add", [a, b], a.Sample + b.Sample);

    /// <summary>Element-wise product with broadcasting (attention gates).</summary>
    public OnnxValue Mul(OnnxValue a, OnnxValue b) => AddNode("Mul", [a, b], a.Sample * b.Sample);

    /// <summary>Element-wise difference with broadcasting.</summary>
    public OnnxValue Sub(OnnxValue a, OnnxValue b) => AddNode("Sub", [a, b], a.Sample - b.Sample);

    /// <summary>Element-wise quotient with broadcasting.</summary>
    public OnnxValue Div(OnnxValue a, OnnxValue b) => AddNode("Div", [a, b], a.Sample / b.Sample);

    /// <summary>
    /// A constant named after the current module path (e.g. a normalisation mean shaped 1×C×1×1), stored as an initializer.
    /// </summary>
    public OnnxValue Constant(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return AddInitializer(CurrentPath.Length == 0 ? name : $"{CurrentPath}.{name}", value);
    }

    /// <summary>
    /// The ONNX <c>Slice</c>: along each of <paramref name="axes"/>, elements from <paramref name="starts"/> up to
    /// <paramref name="ends"/> (exclusive) in <paramref name="steps"/> (default 1; −1 with start −1 and end
    /// <see cref="long.MinValue"/> reverses the axis). <paramref name="sampleOutput"/> is the TorchSharp equivalent.
    /// </summary>
    public OnnxValue Slice(OnnxValue x, long[] starts, long[] ends, long[] axes, Tensor sampleOutput, long[]? steps = null)
    {
        ArgumentNullException.ThrowIfNull(starts);
        ArgumentNullException.ThrowIfNull(ends);
        ArgumentNullException.ThrowIfNull(axes);
        if (starts.Length != axes.Length || ends.Length != axes.Length || (steps is not null && steps.Length != axes.Length))
            throw new ArgumentException("Slice needs one start, end (and step) per axis.", nameof(axes));
        List<OnnxValue?> inputs = [x, Constant("slice_starts", tensor(starts)), Constant("slice_ends", tensor(ends)), Constant("slice_axes", tensor(axes))];
        if (steps is not null)
            inputs.Add(Constant("slice_steps", tensor(steps)));
        return AddNode("Slice", inputs, sampleOutput);
    }

    /// <summary>The logistic sigmoid.</summary>
    public OnnxValue Sigmoid(OnnxValue x) => AddNode("Sigmoid", [x], torch.sigmoid(x.Sample));

    /// <summary>The rectifier max(x, 0).</summary>
    public OnnxValue Relu(OnnxValue x) => AddNode("Relu", [x], torch.nn.functional.relu(x.Sample));

    /// <summary>Element-wise maximum with broadcasting.</summary>
    public OnnxValue Max(OnnxValue a, OnnxValue b) => AddNode("Max", [a, b], maximum(a.Sample, b.Sample));

    /// <summary>The matrix product with NumPy's batching rules (ONNX <c>MatMul</c>, TorchSharp <c>matmul</c>).</summary>
    public OnnxValue MatMul(OnnxValue a, OnnxValue b) => AddNode("MatMul", [a, b], a.Sample.matmul(b.Sample));

    /// <summary>Permutes the axes: output axis i is input axis <paramref name="permutation"/>[i].</summary>
    public OnnxValue Transpose(OnnxValue x, long[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        return AddNode("Transpose", [x], x.Sample.permute(permutation), OnnxAttribute.Ints("perm", permutation));
    }

    /// <summary>The softmax along one axis (opset 13 and later: over that axis alone).</summary>
    public OnnxValue Softmax(OnnxValue x, long axis) =>
        AddNode("Softmax", [x], torch.nn.functional.softmax(x.Sample, axis), OnnxAttribute.Int("axis", axis));

    /// <summary>The Euclidean norm over <paramref name="axes"/>.</summary>
    public OnnxValue ReduceL2(OnnxValue x, long[] axes, bool keepDims = true) =>
        Reduce("ReduceL2", x, axes, keepDims, x.Sample.square().sum(axes, keepDims).sqrt());

    /// <summary>The mean over <paramref name="axes"/> (channel attention's squeeze, spatial attention's channel pool).</summary>
    public OnnxValue ReduceMean(OnnxValue x, long[] axes, bool keepDims = true) =>
        Reduce("ReduceMean", x, axes, keepDims, x.Sample.mean(axes, keepDims));

    /// <summary>The maximum over <paramref name="axes"/>.</summary>
    public OnnxValue ReduceMax(OnnxValue x, long[] axes, bool keepDims = true)
    {
        ArgumentNullException.ThrowIfNull(axes);
        var sample = x.Sample;
        foreach (var axis in axes.Select(a => a < 0 ? a + x.Sample.dim() : a).OrderDescending())
            sample = sample.amax([axis], keepDims);
        return Reduce("ReduceMax", x, axes, keepDims, sample);
    }

    /// <summary>The sum over <paramref name="axes"/> (its axes are an input from opset 13 on).</summary>
    public OnnxValue ReduceSum(OnnxValue x, long[] axes, bool keepDims = true)
    {
        ArgumentNullException.ThrowIfNull(axes);
        var axesValue = AddInitializer((CurrentPath.Length == 0 ? "" : CurrentPath + ".") + "ReduceSum_axes", tensor(axes));
        return AddNode("ReduceSum", [x, axesValue], x.Sample.sum(axes, keepDims), OnnxAttribute.Int("keepdims", keepDims ? 1 : 0));
    }

    /// <summary>Joins values along <paramref name="axis"/>.</summary>
    public OnnxValue Concat(long axis, params OnnxValue[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0) throw new ArgumentException("Concat needs at least one value.", nameof(values));
        return AddNode("Concat", values, cat(values.Select(v => v.Sample).ToArray(), axis), OnnxAttribute.Int("axis", axis));
    }

    /// <summary>Flattens dimensions from <paramref name="axis"/> on into one (ONNX <c>Flatten</c>: the result is 2-D).</summary>
    public OnnxValue Flatten(OnnxValue x, long axis = 1) =>
        AddNode("Flatten", [x], x.Sample.reshape(x.Shape.Take((int)axis).Aggregate(1L, (p, d) => p * d), -1),
            OnnxAttribute.Int("axis", axis));

    /// <summary>Reshapes keeping the (dynamic) batch dimension: <paramref name="shapeAfterBatch"/> are the other dimensions.</summary>
    public OnnxValue ReshapeKeepingBatch(OnnxValue x, long[] shapeAfterBatch)
    {
        ArgumentNullException.ThrowIfNull(shapeAfterBatch);
        var shape = AddInitializer(CurrentPath.Length == 0 ? "shape" : CurrentPath + ".shape", tensor(new long[] { 0 }.Concat(shapeAfterBatch).ToArray()));
        return AddNode("Reshape", [x, shape], x.Sample.reshape(new long[] { x.Shape[0] }.Concat(shapeAfterBatch).ToArray()));
    }

    internal OnnxValue EmitConvolution(Conv2d convolution, OnnxValue input, Tensor weight, Tensor? bias, Tensor expectedSample)
    {
        if (convolution.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException($"Conv2d '{CurrentPath}' uses padding mode {convolution.padding_mode}; only zero padding exports to ONNX.");
        if (convolution.transposed)
            throw new NotSupportedException($"Conv2d '{CurrentPath}' is transposed; ConvTranspose export is not supported.");
        var kernel = convolution.kernel_size;
        var dilation = convolution.dilation ?? [1, 1];
        long[] pads;
        if (convolution.padding_type == Padding.Same)
        {
            var total = kernel.Select((k, i) => dilation[i] * (k - 1)).ToArray();
            pads = [total[0] / 2, total[1] / 2, total[0] - total[0] / 2, total[1] - total[1] / 2];
        }
        else if (convolution.padding_type == Padding.Valid || convolution.padding is null)
        {
            pads = [0, 0, 0, 0];
        }
        else
        {
            var p = convolution.padding.Length == 1 ? [convolution.padding[0], convolution.padding[0]] : convolution.padding;
            pads = [p[0], p[1], p[0], p[1]];
        }

        var inputs = new List<OnnxValue> { input, AddInitializer(CurrentPath + ".weight", weight) };
        if (bias is not null)
            inputs.Add(AddInitializer(CurrentPath + ".bias", bias));
        return AddNode("Conv", inputs, expectedSample,
            OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("strides", convolution.stride ?? [1, 1]),
            OnnxAttribute.Ints("pads", pads),
            OnnxAttribute.Ints("dilations", dilation),
            OnnxAttribute.Int("group", convolution.groups));
    }

    internal static (Tensor Scale, Tensor Shift) BatchNormAffine(BatchNorm2d batchNorm)
    {
        if (batchNorm.running_mean is null || batchNorm.running_var is null)
            throw new NotSupportedException("A BatchNorm2d without running statistics (track_running_stats = false) normalizes with batch statistics at inference and cannot be exported.");
        var mean = batchNorm.running_mean.detach().to(float64);
        var variance = batchNorm.running_var.detach().to(float64);
        var gamma = batchNorm.weight is null ? ones_like(mean) : batchNorm.weight.detach().to(float64);
        var beta = batchNorm.bias is null ? zeros_like(mean) : batchNorm.bias.detach().to(float64);
        var scale = gamma / (variance + batchNorm.eps).sqrt();
        return (scale, beta - mean * scale);
    }

    internal NotSupportedException Unsupported(nn.Module module) => new(
        $"Cannot export module '{(CurrentPath.Length == 0 ? "<root>" : CurrentPath)}' of type {module.GetType().FullName} to ONNX: " +
        $"no converter is registered for it. Write an {nameof(IOnnxModuleConverter)} (or a delegate) that emits its nodes and register it " +
        $"with {nameof(OnnxConverterRegistry)}.{nameof(OnnxConverterRegistry.Default)}.{nameof(OnnxConverterRegistry.Register)}(...) " +
        $"or on a registry passed to {nameof(OnnxExporter)}.");

    private OnnxValue Reduce(string opType, OnnxValue x, long[] axes, bool keepDims, Tensor sample)
    {
        ArgumentNullException.ThrowIfNull(axes);
        var keep = OnnxAttribute.Int("keepdims", keepDims ? 1 : 0);
        // ReduceMean and ReduceMax took their axes as an attribute up to opset 17 and as an input from opset 18.
        if (Opset < 18)
            return AddNode(opType, [x], sample, OnnxAttribute.Ints("axes", axes), keep);
        var axesValue = AddInitializer((CurrentPath.Length == 0 ? "" : CurrentPath + ".") + opType + "_axes", tensor(axes));
        return AddNode(opType, [x, axesValue], sample, keep);
    }

    private void CheckAgainstForward(nn.Module module, OnnxValue input, OnnxValue output, IOnnxModuleConverter converter)
    {
        if (module is not nn.Module<Tensor, Tensor> callable)
            return;
        var expected = callable.call(input.Sample);
        var same = expected.shape.SequenceEqual(output.Shape) &&
                   (expected.numel() == 0 || (expected - output.Sample).abs().max().item<float>() <= SampleTolerance * Math.Max(1.0, expected.abs().max().item<float>()));
        if (!same)
            throw new InvalidOperationException(
                $"The ONNX converter {converter.GetType().Name} for module '{CurrentPath}' ({module.GetType().Name}) does not reproduce the module's forward pass: " +
                $"it gives shape [{string.Join(", ", output.Shape)}] where the module gives [{string.Join(", ", expected.shape)}]" +
                (expected.shape.SequenceEqual(output.Shape) ? " with different values." : "."));
    }

    private string UniqueName(string name)
    {
        var candidate = name;
        for (var i = 1; !_names.Add(candidate); i++)
            candidate = $"{name}_{i}";
        return candidate;
    }

    internal void ReserveName(string name) => _names.Add(name);
}

/// <summary>Converts between TorchSharp tensors and ONNX <c>TensorProto</c>s.</summary>
internal static class OnnxTensors
{
    public static TensorProto ToProto(string name, Tensor value)
    {
        var (dataType, scalar) = value.dtype switch
        {
            ScalarType.Float32 => (TensorProto.Types.DataType.Float, ScalarType.Float32),
            ScalarType.Float64 => (TensorProto.Types.DataType.Float, ScalarType.Float32),
            ScalarType.Int64 => (TensorProto.Types.DataType.Int64, ScalarType.Int64),
            ScalarType.Int32 => (TensorProto.Types.DataType.Int32, ScalarType.Int32),
            ScalarType.Int8 => (TensorProto.Types.DataType.Int8, ScalarType.Int8),
            ScalarType.Byte => (TensorProto.Types.DataType.Uint8, ScalarType.Byte),
            _ => throw new NotSupportedException($"Tensors of type {value.dtype} cannot be stored as ONNX initializers here."),
        };
        using var contiguous = value.detach().cpu().to(scalar).contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)dataType, RawData = ByteString.CopyFrom(contiguous.bytes) };
        proto.Dims.AddRange(value.shape);
        return proto;
    }

    /// <summary>Reads a float, int64 or int32 initializer back into a CPU tensor of its shape.</summary>
    public static Tensor FromProto(TensorProto proto)
    {
        var dims = proto.Dims.ToArray();
        var raw = proto.RawData;
        return (TensorProto.Types.DataType)proto.DataType switch
        {
            TensorProto.Types.DataType.Float => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, float>(raw.Span).ToArray() : proto.FloatData.ToArray(), dims),
            TensorProto.Types.DataType.Int64 => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, long>(raw.Span).ToArray() : proto.Int64Data.ToArray(), dims),
            TensorProto.Types.DataType.Int32 => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, int>(raw.Span).ToArray() : proto.Int32Data.ToArray(), dims),
            _ => throw new NotSupportedException($"The initializer {Describe(proto)} has a type that cannot be read back here."),
        };
    }

    public static string Describe(TensorProto proto) =>
        $"{proto.Name} [{string.Join(", ", proto.Dims)}] {(TensorProto.Types.DataType)proto.DataType}";

    public static ByteString Utf8(string s) => ByteString.CopyFrom(s, Encoding.UTF8);
}
