using System.Reflection;
using FashionVision.Models;
using FashionVision.Onnx;
using FashionVision.TorchVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Onnx;

/// <summary>
/// ONNX converters for the torchvision classifiers, so <see cref="OnnxExporter"/> exports every model this package
/// registers (checked against ONNX Runtime by the tests): the classifiers themselves, EfficientNet's <see cref="MBConv"/>,
/// ShuffleNetV2's <see cref="ShuffleUnit"/> (channel split, concat, channel shuffle as reshape-transpose-reshape),
/// DenseNet's dense blocks (concatenations), the ResNet bottleneck, TorchVision's own blocks (ResNet's BasicBlock,
/// MobileNetV3's inverted residual), its <c>SqueezeExcitation</c>, <c>StochasticDepth</c> (identity at inference) and
/// <c>Hardsigmoid</c>. <see cref="TorchVisionModels.Register"/> adds them to <see cref="OnnxConverterRegistry.Default"/>.
/// </summary>
public static class TorchVisionOnnxConverters
{
    /// <summary>Adds the converters to <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry (usually <see cref="OnnxConverterRegistry.Default"/>).</param>
    public static void Register(OnnxConverterRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.Register<TorchVisionClassifier>(ConvertClassifier);
        registry.Register<MBConv>((c, m, x) => m.UsesResidual ? c.Add(c.Convert(m.Block, x, "block"), x) : c.Convert(m.Block, x, "block"));
        registry.Register<ShuffleUnit>(ConvertShuffleUnit);
        registry.Register<TorchVisionResNet.Bottleneck>(ConvertBottleneck);
        registry.Register<DenseNet121.DenseBlock>(ConvertDenseBlock);
        registry.Register<DenseNet121.DenseBottleneck>(ConvertDenseBottleneck);
        registry.Register<torchvision.SqueezeExcitation>(ConvertSqueezeExcitation);
        registry.Register<torchvision.StochasticDepth>((_, _, x) => x);
        registry.Register<Hardsigmoid>((c, m, x) => c.AddNode("HardSigmoid", [x], nn.functional.hardsigmoid(x.Sample),
            OnnxAttribute.Float("alpha", 1f / 6f), OnnxAttribute.Float("beta", 0.5f)));
        registry.Register(new ReflectedBlockConverter(NestedType(typeof(TorchSharp.Modules.ResNet), "BasicBlock"), ConvertBasicBlock));
        registry.Register(new ReflectedBlockConverter(NestedType(typeof(MobileNetV3), "InvertedResidual"), ConvertInvertedResidual));
    }

    private static OnnxValue ConvertClassifier(OnnxExportContext c, TorchVisionClassifier model, OnnxValue input)
    {
        if (model.Head != HeadKind.Linear)
            throw new NotSupportedException($"{model.GetType().Name} exports with a linear head only; this one has a {model.Head} head.");
        var x = input;
        foreach (var (name, stage) in model.FeatureStages)
            x = c.Convert(stage, x, name);
        if (model.ActivatesBeforePooling)
            x = c.Relu(x);
        x = c.Flatten(c.AddNode("GlobalAveragePool", [x], nn.functional.adaptive_avg_pool2d(x.Sample, 1)));
        for (int i = 0; i < model.HeadHidden.Count; i++)
            x = c.Convert(model.HeadHidden[i], x, $"{model.HeadName}_{i}");
        return c.Convert(model.Classifier, x, model.HeadName);
    }

    private static OnnxValue ConvertShuffleUnit(OnnxExportContext c, ShuffleUnit unit, OnnxValue input)
    {
        OnnxValue joined;
        if (unit.Stride == 1)
        {
            long channels = input.Shape[1], half = channels / 2;
            var first = c.Slice(input, [0], [half], [1], input.Sample[.., ..(int)half]);
            var second = c.Slice(input, [half], [channels], [1], input.Sample[.., (int)half..]);
            joined = c.Concat(1, first, c.Convert(unit.Branch2, second, "branch2"));
        }
        else
        {
            joined = c.Concat(1, c.Convert(unit.Branch1, input, "branch1"), c.Convert(unit.Branch2, input, "branch2"));
        }
        long n = joined.Shape[1], h = joined.Shape[2], w = joined.Shape[3];
        var grouped = c.ReshapeKeepingBatch(joined, [2, n / 2, h, w]);
        return c.ReshapeKeepingBatch(c.Transpose(grouped, [0, 2, 1, 3, 4]), [n, h, w]);
    }

    private static OnnxValue ConvertBottleneck(OnnxExportContext c, TorchVisionResNet.Bottleneck block, OnnxValue input)
    {
        var x = input;
        string[] names = ["conv1", "conv2", "conv3"];
        for (int i = 0; i < 3; i++)
        {
            var (conv, norm) = block.Layers[i];
            x = c.ConvertConvolution((Conv2d)conv, (BatchNorm2d)norm, x, names[i], $"bn{i + 1}");
            if (i < 2)
                x = c.Relu(x);
        }
        var identity = input;
        if (block.Downsample is not null)
        {
            long s = block.ShortcutStride;
            var shortcut = s == 1 ? input
                : c.Slice(input, [0, 0], [input.Shape[2], input.Shape[3]], [2, 3],
                    input.Sample[.., .., TensorIndex.Slice(null, null, s), TensorIndex.Slice(null, null, s)], [s, s]);
            identity = c.Convert(block.Downsample, shortcut, "downsample");
        }
        return c.Relu(c.Add(x, identity));
    }

    private static OnnxValue ConvertDenseBlock(OnnxExportContext c, DenseNet121.DenseBlock block, OnnxValue input)
    {
        var features = new List<OnnxValue> { input };
        for (int i = 0; i < block.Layers.Count; i++)
        {
            var joined = features.Count == 1 ? input : c.Concat(1, features.ToArray());
            features.Add(c.Convert(block.Layers[i], joined, $"denselayer{i + 1}"));
        }
        return c.Concat(1, features.ToArray());
    }

    private static OnnxValue ConvertDenseBottleneck(OnnxExportContext c, DenseNet121.DenseBottleneck layer, OnnxValue input)
    {
        var (norm1, conv1, norm2, conv2) = layer.Parts;
        var x = c.Relu(c.Convert(norm1, input, "norm1"));
        x = c.Relu(c.ConvertConvolution(conv1, norm2, x, "conv1", "norm2"));
        return c.Convert(conv2, x, "conv2");
    }

    private static OnnxValue ConvertSqueezeExcitation(OnnxExportContext c, torchvision.SqueezeExcitation se, OnnxValue input)
    {
        var parts = se.named_children().ToDictionary(p => p.name, p => p.module);
        var squeezed = c.AddNode("GlobalAveragePool", [input], nn.functional.adaptive_avg_pool2d(input.Sample, 1));
        var hidden = c.Convert(parts["activation"], c.Convert(parts["fc1"], squeezed, "fc1"), "activation");
        var gate = c.Convert(parts["scale_activation"], c.Convert(parts["fc2"], hidden, "fc2"), "scale_activation");
        return c.Mul(input, gate);
    }

    // TorchVision's BasicBlock: relu(bn1(conv1(x))), bn2(conv2(.)), plus the shortcut, relu.
    private static OnnxValue ConvertBasicBlock(OnnxExportContext c, nn.Module block, OnnxValue input)
    {
        var parts = block.named_children().ToDictionary(p => p.name, p => p.module);
        var x = c.Relu(c.ConvertConvolution((Conv2d)parts["conv1"], (BatchNorm2d)parts["bn1"], input, "conv1", "bn1"));
        x = c.ConvertConvolution((Conv2d)parts["conv2"], (BatchNorm2d)parts["bn2"], x, "conv2", "bn2");
        var identity = parts.TryGetValue("downsample", out var downsample) ? c.Convert(downsample, input, "downsample") : input;
        return c.Relu(c.Add(x, identity));
    }

    // TorchVision's MobileNetV3 inverted residual: its block, plus the input when it keeps stride and width.
    private static OnnxValue ConvertInvertedResidual(OnnxExportContext c, nn.Module block, OnnxValue input)
    {
        var inner = block.named_children().Single(p => p.name == "block").module;
        var output = c.Convert(inner, input, "block");
        var residual = block.GetType().GetField("use_res_connect", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new NotSupportedException("TorchVision's InvertedResidual has no use_res_connect field in this version.");
        return (bool)residual.GetValue(block)! ? c.Add(output, input) : output;
    }

    private static Type NestedType(Type outer, string name) =>
        outer.GetNestedType(name, BindingFlags.NonPublic | BindingFlags.Public)
        ?? throw new InvalidOperationException($"TorchVision's {outer.Name}.{name} was not found; the converters were written for TorchVision 0.107.");

    /// <summary>A converter for one of TorchVision's private block types, found by reflection.</summary>
    private sealed class ReflectedBlockConverter(Type moduleType, Func<OnnxExportContext, nn.Module, OnnxValue, OnnxValue> convert) : IOnnxModuleConverter
    {
        public Type ModuleType { get; } = moduleType;

        public OnnxValue Convert(OnnxExportContext context, nn.Module module, OnnxValue input) => convert(context, module, input);
    }
}
