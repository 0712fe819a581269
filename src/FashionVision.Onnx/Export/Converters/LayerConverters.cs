using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Onnx.Converters;

/// <summary>Converters for TorchSharp's own layers (containers, convolutions, normalization, activations, pooling, linear).</summary>
internal static class LayerConverters
{
    public static void RegisterAll(OnnxConverterRegistry registry)
    {
        registry.Register<Sequential>(ConvertSequential);
        registry.Register<Conv2d>((c, conv, x) =>
            c.EmitConvolution(conv, x, conv.weight!.detach(), conv.bias?.detach(), conv.call(x.Sample)));
        registry.Register<BatchNorm2d>(ConvertBatchNorm);
        registry.Register<LayerNorm>(ConvertLayerNorm);
        registry.Register<Linear>(ConvertLinear);

        // Layers that are the identity at inference.
        registry.Register<Dropout>((_, _, x) => x);
        registry.Register<Dropout1d>((_, _, x) => x);
        registry.Register<Dropout2d>((_, _, x) => x);
        registry.Register<Identity>((_, _, x) => x);

        // Activations. Samples are computed out of place: an in-place module (torchvision builds Hardswish(inplace: true))
        // would otherwise overwrite its input's sample, which the checks and later nodes still read.
        registry.Register<ReLU>((c, _, x) => c.Relu(x));
        registry.Register<Sigmoid>((c, _, x) => c.Sigmoid(x));
        registry.Register<Tanh>((c, m, x) => c.AddNode("Tanh", [x], m.call(x.Sample)));
        registry.Register<LeakyReLU>((c, m, x) =>
            c.AddNode("LeakyRelu", [x], nn.functional.leaky_relu(x.Sample, m.negative_slope), OnnxAttribute.Float("alpha", (float)m.negative_slope)));
        registry.Register<ELU>((c, m, x) => c.AddNode("Elu", [x], nn.functional.elu(x.Sample, m.alpha), OnnxAttribute.Float("alpha", (float)m.alpha)));
        registry.Register<Hardswish>((c, m, x) => c.AddNode("HardSwish", [x], nn.functional.hardswish(x.Sample)));
        registry.Register<ReLU6>((c, m, x) =>
        {
            var low = c.AddInitializer(c.CurrentPath + ".min", tensor(0f));
            var high = c.AddInitializer(c.CurrentPath + ".max", tensor(6f));
            return c.AddNode("Clip", [x, low, high], nn.functional.relu6(x.Sample));
        });
        registry.Register<SiLU>((c, m, x) => c.Mul(x, c.Sigmoid(x)));
        registry.Register<GELU>(ConvertGelu);
        registry.Register<Softmax>((c, m, x) =>
            c.AddNode("Softmax", [x], m.call(x.Sample), OnnxAttribute.Int("axis", m.dim)));

        // Pooling and reshaping.
        registry.Register<MaxPool2d>(ConvertMaxPool);
        registry.Register<AvgPool2d>(ConvertAvgPool);
        registry.Register<AdaptiveAvgPool2d>((c, m, x) => ConvertAdaptivePool(c, m, x, m.output_size, "GlobalAveragePool", "AveragePool"));
        registry.Register<AdaptiveMaxPool2d>((c, m, x) => ConvertAdaptivePool(c, m, x, m.output_size, "GlobalMaxPool", "MaxPool"));
        registry.Register<Flatten>(ConvertFlatten);
    }

    private static OnnxValue ConvertSequential(OnnxExportContext context, Sequential sequential, OnnxValue input)
    {
        var children = sequential.named_children().ToList();
        var value = input;
        for (var i = 0; i < children.Count; i++)
        {
            var (name, child) = children[i];
            if (child is Conv2d conv && i + 1 < children.Count && children[i + 1].module is BatchNorm2d batchNorm)
            {
                value = context.ConvertConvolution(conv, batchNorm, value, name, children[i + 1].name);
                i++;
                continue;
            }
            value = context.Convert(child, value, name);
        }
        return value;
    }

    private static OnnxValue ConvertBatchNorm(OnnxExportContext context, BatchNorm2d batchNorm, OnnxValue x)
    {
        if (x.Shape.Length != 4)
            throw new NotSupportedException($"BatchNorm2d '{context.CurrentPath}' receives a {x.Shape.Length}-D value; it exports for 4-D inputs only.");
        var (scaleFactor, _) = OnnxExportContext.BatchNormAffine(batchNorm);
        var channels = scaleFactor.shape[0];
        var weight = batchNorm.weight?.detach() ?? ones(channels);
        var bias = batchNorm.bias?.detach() ?? zeros(channels);
        var path = context.CurrentPath;
        return context.AddNode("BatchNormalization",
            [x, context.AddInitializer(path + ".weight", weight), context.AddInitializer(path + ".bias", bias),
             context.AddInitializer(path + ".running_mean", batchNorm.running_mean!.detach()),
             context.AddInitializer(path + ".running_var", batchNorm.running_var!.detach())],
            batchNorm.call(x.Sample),
            OnnxAttribute.Float("epsilon", (float)batchNorm.eps));
    }

    private static OnnxValue ConvertLayerNorm(OnnxExportContext context, LayerNorm norm, OnnxValue x)
    {
        // LayerNormalization (opset 17) normalises over the axes from `axis` on: the last len(normalized_shape) axes.
        var normalized = norm.normalized_shape;
        var path = context.CurrentPath;
        var scale = norm.weight?.detach() ?? ones(normalized);
        var bias = norm.bias?.detach() ?? zeros(normalized);
        return context.AddNode("LayerNormalization",
            [x, context.AddInitializer(path + ".weight", scale), context.AddInitializer(path + ".bias", bias)],
            norm.call(x.Sample),
            OnnxAttribute.Int("axis", -normalized.Length),
            OnnxAttribute.Float("epsilon", (float)norm.eps));
    }

    private static OnnxValue ConvertLinear(OnnxExportContext context, Linear linear, OnnxValue x)
    {
        var path = context.CurrentPath;
        var expected = linear.call(x.Sample);
        if (x.Shape.Length == 2)
        {
            var inputs = new List<OnnxValue> { x, context.AddInitializer(path + ".weight", linear.weight!.detach()) };
            if (linear.bias is not null)
                inputs.Add(context.AddInitializer(path + ".bias", linear.bias.detach()));
            return context.AddNode("Gemm", inputs, expected, OnnxAttribute.Int("transB", 1));
        }

        // Linear over the last dimension of a higher-rank value: MatMul with the transposed weight, then the bias.
        var transposed = context.AddInitializer(path + ".weight_t", linear.weight!.detach().t().contiguous());
        var product = context.AddNode("MatMul", [x, transposed], linear.bias is null ? expected : expected - linear.bias.detach());
        return linear.bias is null ? product : context.Add(product, context.AddInitializer(path + ".bias", linear.bias.detach()));
    }

    private static OnnxValue ConvertGelu(OnnxExportContext context, GELU gelu, OnnxValue x)
    {
        var expected = gelu.call(x.Sample);
        if (context.Opset >= 20)
            return context.AddNode("Gelu", [x], expected,
                OnnxAttribute.String("approximate", gelu.approximate == GELU.Approximate.tanh ? "tanh" : "none"));

        var path = context.CurrentPath;
        var half = context.AddInitializer(path + ".half", tensor(0.5f));
        var one = context.AddInitializer(path + ".one", tensor(1f));
        OnnxValue inner;
        if (gelu.approximate == GELU.Approximate.tanh)
        {
            // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            var cubeCoefficient = context.AddInitializer(path + ".cube_coefficient", tensor(0.044715f));
            var scale = context.AddInitializer(path + ".scale", tensor((float)Math.Sqrt(2 / Math.PI)));
            var cube = context.Mul(context.Mul(x, x), x);
            var sum = context.Add(x, context.Mul(cube, cubeCoefficient));
            var scaled = context.Mul(sum, scale);
            inner = context.AddNode("Tanh", [scaled], torch.tanh(scaled.Sample));
        }
        else
        {
            // 0.5 x (1 + erf(x / sqrt 2))
            var inverseRoot2 = context.AddInitializer(path + ".inv_sqrt2", tensor((float)(1 / Math.Sqrt(2))));
            var scaled = context.Mul(x, inverseRoot2);
            inner = context.AddNode("Erf", [scaled], special.erf(scaled.Sample));
        }
        return context.Mul(context.Mul(x, half), context.Add(inner, one));
    }

    private static OnnxValue ConvertMaxPool(OnnxExportContext context, MaxPool2d pool, OnnxValue x)
    {
        var kernel = Pair(pool.kernel_size);
        return context.AddNode("MaxPool", [x], pool.call(x.Sample),
            OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("strides", pool.stride is { Length: > 0 } ? Pair(pool.stride) : kernel),
            OnnxAttribute.Ints("pads", Pads(pool.padding)),
            OnnxAttribute.Ints("dilations", pool.dilation is { Length: > 0 } ? Pair(pool.dilation) : [1, 1]),
            OnnxAttribute.Int("ceil_mode", pool.ceil_mode ? 1 : 0));
    }

    private static OnnxValue ConvertAvgPool(OnnxExportContext context, AvgPool2d pool, OnnxValue x)
    {
        if (pool.divisor_override is not null)
            throw new NotSupportedException($"AvgPool2d '{context.CurrentPath}' sets divisor_override, which ONNX AveragePool cannot express.");
        var kernel = Pair(pool.kernel_size);
        return context.AddNode("AveragePool", [x], pool.call(x.Sample),
            OnnxAttribute.Ints("kernel_shape", kernel),
            OnnxAttribute.Ints("strides", pool.stride is { Length: > 0 } ? Pair(pool.stride) : kernel),
            OnnxAttribute.Ints("pads", Pads(pool.padding)),
            OnnxAttribute.Int("ceil_mode", pool.ceil_mode ? 1 : 0),
            OnnxAttribute.Int("count_include_pad", pool.count_include_pad ? 1 : 0));
    }

    private static OnnxValue ConvertAdaptivePool(OnnxExportContext context, nn.Module<Tensor, Tensor> pool, OnnxValue x, long[] outputSize, string globalOp, string windowOp)
    {
        var expected = pool.call(x.Sample);
        var size = Pair(outputSize);
        if (size[0] == 1 && size[1] == 1)
            return context.AddNode(globalOp, [x], expected);

        // An adaptive pool whose output divides the input evenly is an ordinary pool with kernel = stride = input / output.
        var (height, width) = (x.Shape[2], x.Shape[3]);
        if (height % size[0] != 0 || width % size[1] != 0)
            throw new NotSupportedException(
                $"{pool.GetType().Name} '{context.CurrentPath}' maps {height}×{width} to {size[0]}×{size[1]}, which is not an even split; only output size 1 or an even divisor exports.");
        long[] kernel = [height / size[0], width / size[1]];
        return context.AddNode(windowOp, [x], expected,
            OnnxAttribute.Ints("kernel_shape", kernel), OnnxAttribute.Ints("strides", kernel));
    }

    private static OnnxValue ConvertFlatten(OnnxExportContext context, Flatten flatten, OnnxValue x)
    {
        var rank = x.Shape.Length;
        var start = flatten.start_dim < 0 ? flatten.start_dim + rank : flatten.start_dim;
        var end = flatten.end_dim < 0 ? flatten.end_dim + rank : flatten.end_dim;
        var expected = flatten.call(x.Sample);
        if (end == rank - 1 && start == 1)
            return context.Flatten(x, 1);
        if (start == 0)
            throw new NotSupportedException($"Flatten '{context.CurrentPath}' merges the batch dimension, which a dynamic-batch graph cannot express.");
        var reshaped = context.ReshapeKeepingBatch(x, expected.shape.Skip(1).ToArray());
        return reshaped;
    }

    private static long[] Pair(long[]? values) => values switch
    {
        null or { Length: 0 } => [1, 1],
        { Length: 1 } => [values[0], values[0]],
        _ => [values[0], values[1]],
    };

    private static long[] Pads(long[]? padding)
    {
        if (padding is null || padding.Length == 0) return [0, 0, 0, 0];
        var p = Pair(padding);
        return [p[0], p[1], p[0], p[1]];
    }
}
