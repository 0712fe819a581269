using FashionVision.Onnx.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// The ONNX operators <see cref="OnnxExporter"/> writes, as TorchSharp operations (differentiable, on any device), so an
/// exported graph can run — and train — in TorchSharp. An operator or attribute value outside that set raises
/// <see cref="NotSupportedException"/> naming the node.
/// </summary>
internal static class OnnxGraphOps
{
    /// <summary>Runs <paramref name="node"/> on its inputs (null for an omitted optional input).</summary>
    public static Tensor Apply(NodeProto node, IReadOnlyList<Tensor?> inputs)
    {
        Tensor In(int i) => inputs.Count > i && inputs[i] is { } value ? value
            : throw new NotSupportedException($"ONNX node '{node.Name}' ({node.OpType}) lacks its input {i}.");
        Tensor? Optional(int i) => inputs.Count > i ? inputs[i] : null;
        return node.OpType switch
        {
            "Conv" => Conv(node, In(0), In(1), Optional(2)),
            "Gemm" => Gemm(node, In(0), In(1), Optional(2)),
            "MatMul" => In(0).matmul(In(1)),
            "BatchNormalization" => BatchNormalization(node, In(0), In(1), In(2), In(3), In(4)),
            "Add" => In(0) + In(1),
            "Mul" => In(0) * In(1),
            "Relu" => nn.functional.relu(In(0)),
            "Sigmoid" => sigmoid(In(0)),
            "Tanh" => tanh(In(0)),
            "LeakyRelu" => nn.functional.leaky_relu(In(0), Float(node, "alpha", 0.01f)),
            "Elu" => nn.functional.elu(In(0), Float(node, "alpha", 1f)),
            "HardSwish" => nn.functional.hardswish(In(0)),
            "Erf" => special.erf(In(0)),
            "Clip" => Clip(In(0), Optional(1), Optional(2)),
            "Softmax" => nn.functional.softmax(In(0), Int(node, "axis", -1)),
            "MaxPool" => nn.functional.max_pool2d(In(0), Ints(node, "kernel_shape"), Ints(node, "strides", [1, 1]), SymmetricPads(node),
                Ints(node, "dilations", [1, 1]), Int(node, "ceil_mode", 0) == 1),
            "AveragePool" => nn.functional.avg_pool2d(In(0), Ints(node, "kernel_shape"), Ints(node, "strides", [1, 1]), SymmetricPads(node),
                Int(node, "ceil_mode", 0) == 1, Int(node, "count_include_pad", 0) == 1),
            "GlobalAveragePool" => In(0).mean([2, 3], keepdim: true),
            "GlobalMaxPool" => In(0).amax([2, 3], keepdim: true),
            "Flatten" => Flatten(In(0), Int(node, "axis", 1)),
            "Reshape" => Reshape(In(0), In(1)),
            "ReduceMean" => In(0).mean(Axes(node, In(0), Optional(1)), keepdim: Int(node, "keepdims", 1) == 1),
            "ReduceSum" => In(0).sum(Axes(node, In(0), Optional(1)), keepdim: Int(node, "keepdims", 1) == 1),
            "ReduceMax" => In(0).amax(Axes(node, In(0), Optional(1)), keepdim: Int(node, "keepdims", 1) == 1),
            "Concat" => cat(inputs.Select((_, i) => In(i)).ToArray(), Int(node, "axis", 0)),
            "Identity" => In(0).alias(),
            _ => throw new NotSupportedException($"ONNX node '{node.Name}' uses the operator {node.OpType}, which FashionVision cannot run in TorchSharp."),
        };
    }

    private static Tensor Conv(NodeProto node, Tensor x, Tensor weight, Tensor? bias)
    {
        var pads = Ints(node, "pads", [0, 0, 0, 0]);
        if (pads[0] != pads[2] || pads[1] != pads[3])
        {
            // Asymmetric padding: pad explicitly (left, right, top, bottom), then convolve without padding.
            x = nn.functional.pad(x, [pads[1], pads[3], pads[0], pads[2]]);
            pads = [0, 0, 0, 0];
        }
        return nn.functional.conv2d(x, weight, bias, Ints(node, "strides", [1, 1]), [pads[0], pads[1]], Ints(node, "dilations", [1, 1]),
            Int(node, "group", 1));
    }

    private static Tensor Gemm(NodeProto node, Tensor a, Tensor b, Tensor? c)
    {
        if (Int(node, "transA", 0) != 0 || Float(node, "alpha", 1f) != 1f || Float(node, "beta", 1f) != 1f)
            throw new NotSupportedException($"ONNX node '{node.Name}' (Gemm) uses transA, alpha or beta, which FashionVision does not write.");
        var product = Int(node, "transB", 0) == 1 ? a.matmul(b.t()) : a.matmul(b);
        return c is null ? product : product + c;
    }

    private static Tensor BatchNormalization(NodeProto node, Tensor x, Tensor scale, Tensor shift, Tensor mean, Tensor variance)
    {
        var shape = new long[] { 1, -1, 1, 1 };
        var inverse = (variance + Float(node, "epsilon", 1e-5f)).rsqrt();
        return (x - mean.reshape(shape)) * (scale * inverse).reshape(shape) + shift.reshape(shape);
    }

    private static Tensor Clip(Tensor x, Tensor? min, Tensor? max) =>
        (min, max) switch
        {
            (null, null) => x.alias(),
            (null, { } high) => x.clamp_max(high.item<float>()),
            ({ } low, null) => x.clamp_min(low.item<float>()),
            ({ } low, { } high) => x.clamp(low.item<float>(), high.item<float>()),
        };

    private static Tensor Flatten(Tensor x, long axis)
    {
        if (axis < 0) axis += x.dim();
        var leading = x.shape.Take((int)axis).Aggregate(1L, (p, d) => p * d);
        return x.reshape(leading, -1);
    }

    private static Tensor Reshape(Tensor x, Tensor shape)
    {
        // A 0 copies the input's dimension at that position (ONNX Reshape's default allowzero = 0).
        var target = shape.cpu().to(int64).data<long>().ToArray().Select((d, i) => d == 0 ? x.shape[i] : d).ToArray();
        return x.reshape(target);
    }

    private static long[] Axes(NodeProto node, Tensor x, Tensor? axesInput)
    {
        long[] axes = axesInput is not null ? axesInput.cpu().to(int64).data<long>().ToArray() : Ints(node, "axes", []);
        return axes.Length == 0 ? Enumerable.Range(0, (int)x.dim()).Select(i => (long)i).ToArray() : axes;
    }

    private static long[] SymmetricPads(NodeProto node)
    {
        var pads = Ints(node, "pads", [0, 0, 0, 0]);
        if (pads[0] != pads[2] || pads[1] != pads[3])
            throw new NotSupportedException($"ONNX node '{node.Name}' ({node.OpType}) pads asymmetrically, which FashionVision does not write.");
        return [pads[0], pads[1]];
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static long Int(NodeProto node, string name, long defaultValue) => Attribute(node, name)?.I ?? defaultValue;

    private static float Float(NodeProto node, string name, float defaultValue) => Attribute(node, name)?.F ?? defaultValue;

    private static long[] Ints(NodeProto node, string name, long[]? defaultValue = null) =>
        Attribute(node, name)?.Ints.ToArray() ?? defaultValue
        ?? throw new NotSupportedException($"ONNX node '{node.Name}' ({node.OpType}) lacks the attribute {name}.");
}
