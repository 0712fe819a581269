using FashionVision.Models;

namespace FashionVision.Onnx.Converters;

/// <summary>
/// Converters for the FashionVision model zoo and its blocks. Each mirrors the module's <c>forward</c> and names children as
/// the state dict does, so initializers are called <c>layer1.0.conv1.weight</c> and so on.
/// </summary>
internal static class ZooConverters
{
    public static void RegisterAll(OnnxConverterRegistry registry)
    {
        // Blocks.
        registry.Register<BasicBlock>(ConvertBasicBlock);
        registry.Register<WideBasicBlock>(ConvertWideBasicBlock);
        registry.Register<DepthwiseSeparableConv>(ConvertDepthwiseSeparable);
        registry.Register<SqueezeExcitation>(ConvertSqueezeExcitation);
        registry.Register<ChannelAttention>(ConvertChannelAttention);
        registry.Register<SpatialAttention>(ConvertSpatialAttention);
        registry.Register<Cbam>((c, m, x) => c.Convert(m.SpatialGate, c.Convert(m.ChannelGate, x, "channel_gate"), "spatial_gate"));

        // Classifiers.
        registry.Register<LeNet5>(ConvertLeNet5);
        registry.Register<SmallCnn>(ConvertSmallCnn);
        registry.Register<VggCnn>(ConvertVggCnn);
        registry.Register<ResNet>(ConvertResNet);
        registry.Register<WideResNet>(ConvertWideResNet);
        registry.Register<MobileNet>(ConvertMobileNet);
        registry.Register<FastCnn>(ConvertFastCnn);
        registry.Register<FastResNet>(ConvertFastResNet);
    }

    private static OnnxValue ConvertBasicBlock(OnnxExportContext c, BasicBlock block, OnnxValue input)
    {
        var x = c.Convert(block.Relu, c.ConvertConvolution(block.Conv1, block.Bn1, input, "conv1", "bn1"), "relu");
        x = c.ConvertConvolution(block.Conv2, block.Bn2, x, "conv2", "bn2");
        if (block.Attention is not null)
            x = c.Convert(block.Attention, x, "attention");
        var identity = block.Downsample is null ? input : c.Convert(block.Downsample, input, "downsample");
        return c.Convert(block.Relu, c.Add(x, identity), "relu");
    }

    private static OnnxValue ConvertWideBasicBlock(OnnxExportContext c, WideBasicBlock block, OnnxValue input)
    {
        // Pre-activation: BN-ReLU before each convolution; the second BN follows conv1 directly and folds into it.
        var activated = c.Convert(block.Relu1, c.Convert(block.Bn1, input, "bn1"), "relu1");
        var x = c.ConvertConvolution(block.Conv1, block.Bn2, activated, "conv1", "bn2");
        x = c.Convert(block.Dropout, c.Convert(block.Relu2, x, "relu2"), "dropout");
        x = c.Convert(block.Conv2, x, "conv2");
        if (block.Attention is not null)
            x = c.Convert(block.Attention, x, "attention");
        var identity = block.Shortcut is null ? input : c.Convert(block.Shortcut, activated, "shortcut");
        return c.Add(x, identity);
    }

    private static OnnxValue ConvertDepthwiseSeparable(OnnxExportContext c, DepthwiseSeparableConv block, OnnxValue input)
    {
        var x = c.Convert(block.Relu1, c.ConvertConvolution(block.Depthwise, block.Bn1, input, "depthwise", "bn1"), "relu1");
        x = c.Convert(block.Relu2, c.ConvertConvolution(block.Pointwise, block.Bn2, x, "pointwise", "bn2"), "relu2");
        return block.Attention is null ? x : c.Convert(block.Attention, x, "attention");
    }

    private static OnnxValue ConvertSqueezeExcitation(OnnxExportContext c, SqueezeExcitation se, OnnxValue input)
    {
        var squeezed = c.Convert(se.Pool, input, "pool");
        var hidden = c.Convert(se.Activation, c.Convert(se.Reduce, squeezed, "reduce"), "activation");
        var gate = c.Convert(se.Gate, c.Convert(se.Expand, hidden, "expand"), "gate");
        return c.Mul(input, gate);
    }

    private static OnnxValue ConvertChannelAttention(OnnxExportContext c, ChannelAttention attention, OnnxValue input)
    {
        // The shared MLP is made of 1×1 convolutions, which act on each pixel alone: the average- and max-pooled
        // descriptors go through it once side by side (N×C×1×2), and a sum over that axis gives mlp(avg) + mlp(max).
        var pooled = c.Concat(3, c.Convert(attention.AvgPool, input, "avg_pool"), c.Convert(attention.MaxPool, input, "max_pool"));
        var hidden = c.Convert(attention.Activation, c.Convert(attention.Reduce, pooled, "reduce"), "activation");
        var both = c.Convert(attention.Expand, hidden, "expand");
        var gate = c.Convert(attention.Gate, c.ReduceSum(both, [3]), "gate");
        return c.Mul(input, gate);
    }

    private static OnnxValue ConvertSpatialAttention(OnnxExportContext c, SpatialAttention attention, OnnxValue input)
    {
        var pooled = c.Concat(1, c.ReduceMean(input, [1]), c.ReduceMax(input, [1]));
        var gate = c.Convert(attention.Gate, c.ConvertConvolution(attention.Conv, attention.Norm, pooled, "conv", "bn"), "gate");
        return c.Mul(input, gate);
    }

    private static OnnxValue ConvertLeNet5(OnnxExportContext c, LeNet5 model, OnnxValue input)
    {
        var x = c.Convert(model.Pool1, c.Convert(model.Relu, c.Convert(model.Conv1, input, "conv1"), "relu"), "pool1");
        x = c.Convert(model.Pool2, c.Convert(model.Relu, c.Convert(model.Conv2, x, "conv2"), "relu"), "pool2");
        x = c.Convert(model.Relu, c.Convert(model.Fc1, c.Flatten(x), "fc1"), "relu");
        x = c.Convert(model.Relu, c.Convert(model.Fc2, x, "fc2"), "relu");
        return c.Convert(model.Classifier, c.Convert(model.Dropout, x, "dropout"), "fc3");
    }

    private static OnnxValue ConvertSmallCnn(OnnxExportContext c, SmallCnn model, OnnxValue input)
    {
        var x = Pool(c, model.AvgPool, c.Convert(model.Features, input, "features"));
        x = c.Convert(model.Relu, c.Convert(model.Fc1, x, "fc1"), "relu");
        return c.Convert(model.Classifier, c.Convert(model.Dropout, x, "dropout"), "fc2");
    }

    private static OnnxValue ConvertVggCnn(OnnxExportContext c, VggCnn model, OnnxValue input) =>
        Head(c, model, c.Convert(model.Features, input, "features"));

    private static OnnxValue ConvertResNet(OnnxExportContext c, ResNet model, OnnxValue input)
    {
        var x = c.Convert(model.Relu, c.ConvertConvolution(model.Conv1, model.Bn1, input, "conv1", "bn1"), "relu");
        if (model.MaxPool is not null)
            x = c.Convert(model.MaxPool, x, "maxpool");
        x = c.Convert(model.Layer1, x, "layer1");
        x = c.Convert(model.Layer2, x, "layer2");
        x = c.Convert(model.Layer3, x, "layer3");
        return Head(c, model, c.Convert(model.Layer4, x, "layer4"));
    }

    private static OnnxValue ConvertWideResNet(OnnxExportContext c, WideResNet model, OnnxValue input)
    {
        var x = c.Convert(model.Conv1, input, "conv1");
        x = c.Convert(model.Block1, x, "block1");
        x = c.Convert(model.Block2, x, "block2");
        x = c.Convert(model.Block3, x, "block3");
        return Head(c, model, c.Convert(model.Relu, c.Convert(model.Bn1, x, "bn1"), "relu"));
    }

    private static OnnxValue ConvertMobileNet(OnnxExportContext c, MobileNet model, OnnxValue input)
    {
        var x = c.Convert(model.Relu, c.ConvertConvolution(model.Conv1, model.Bn1, input, "conv1", "bn1"), "relu");
        return Head(c, model, c.Convert(model.Blocks, x, "blocks"));
    }

    private static OnnxValue ConvertFastCnn(OnnxExportContext c, FastCnn model, OnnxValue input)
    {
        // The stem's Sequential (conv, max-pool, BatchNorm, ReLU) exports its BatchNorm as a node: it follows the pooling,
        // not the convolution, so it cannot be folded into it.
        var x = c.Convert(model.Widen1, c.Convert(model.Stem, input, "stem"), "widen1");
        x = c.Add(x, c.Convert(model.Residual1, x, "res1"));
        x = c.Convert(model.Widen2, x, "widen2");
        x = c.Add(x, c.Convert(model.Residual2, x, "res2"));
        var pooled = c.Concat(1, c.ReduceMean(x, [2, 3], keepDims: false), c.ReduceMax(x, [2, 3], keepDims: false));
        return c.Convert(model.Classifier, c.Convert(model.Dropout, pooled, "dropout"), "head");
    }

    private static OnnxValue ConvertFastResNet(OnnxExportContext c, FastResNet model, OnnxValue input)
    {
        var x = c.Convert(model.Widen1, c.Convert(model.Stem, input, "stem"), "widen1");
        for (int i = 0; i < model.Stage1.Count; i++)
            x = c.Convert(model.Relu, c.Add(x, c.Convert(model.Stage1[i], x, $"stage1.{i}")), "relu");
        x = c.Convert(model.Widen2, x, "widen2");
        for (int i = 0; i < model.Stage2.Count; i++)
            x = c.Convert(model.Relu, c.Add(x, c.Convert(model.Stage2[i], x, $"stage2.{i}")), "relu");
        var pooled = c.Concat(1, c.ReduceMean(x, [2, 3], keepDims: false), c.ReduceMax(x, [2, 3], keepDims: false));
        return c.Convert(model.Classifier, c.Convert(model.Dropout, pooled, "dropout"), "head");
    }

    /// <summary>The zoo heads' <c>avgpool(features).flatten(1)</c>.</summary>
    private static OnnxValue Pool(OnnxExportContext c, TorchSharp.Modules.AdaptiveAvgPool2d pool, OnnxValue features) =>
        c.Flatten(c.Convert(pool, features, GlobalPoolingClassifier.AvgPoolName));

    /// <summary>The shared head of <see cref="GlobalPoolingClassifier"/>: <c>fc(dropout(avgpool(features).flatten(1)))</c>.</summary>
    private static OnnxValue Head(OnnxExportContext c, GlobalPoolingClassifier model, OnnxValue features) =>
        c.Convert(model.Classifier, c.Convert(model.Dropout, Pool(c, model.AvgPool, features), GlobalPoolingClassifier.DropoutName),
            GlobalPoolingClassifier.ClassifierName);
}
