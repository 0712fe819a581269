using static TorchSharp.torch;
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
        registry.Register<DenseLayer>(ConvertDenseLayer);
        registry.Register<DenseTransition>((c, t, x) =>
            c.Convert(t.Pool, c.Convert(t.Conv, c.Convert(t.Relu, c.Convert(t.Bn, x, "bn"), "relu"), "conv"), "pool"));
        registry.Register<MultiHeadSelfAttention>(ConvertSelfAttention);
        registry.Register<TransformerBlock>(ConvertTransformerBlock);

        // Classifiers.
        registry.Register<LeNet5>(ConvertLeNet5);
        registry.Register<SmallCnn>(ConvertSmallCnn);
        registry.Register<VggCnn>(ConvertVggCnn);
        registry.Register<ResNet>(ConvertResNet);
        registry.Register<WideResNet>(ConvertWideResNet);
        registry.Register<MobileNet>(ConvertMobileNet);
        registry.Register<FastCnn>(ConvertFastCnn);
        registry.Register<DenseNet>(ConvertDenseNet);
        registry.Register<VisionTransformer>(ConvertVisionTransformer);
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
        return ConvertClassifier(c, model, c.Convert(model.Dropout, x, "dropout"), "fc3");
    }

    private static OnnxValue ConvertSmallCnn(OnnxExportContext c, SmallCnn model, OnnxValue input)
    {
        var x = Pool(c, model.AvgPool, c.Convert(model.Features, input, "features"));
        x = c.Convert(model.Relu, c.Convert(model.Fc1, x, "fc1"), "relu");
        return ConvertClassifier(c, model, c.Convert(model.Dropout, x, "dropout"), "fc2");
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
        return ConvertClassifier(c, model, c.Convert(model.Dropout, pooled, "dropout"), "head");
    }

    private static OnnxValue ConvertDenseLayer(OnnxExportContext c, DenseLayer layer, OnnxValue input)
    {
        // Pre-activation: the first BatchNorm precedes its convolution and stays a node; the second folds into conv1.
        var x = c.Convert(layer.Relu1, c.Convert(layer.Bn1, input, "bn1"), "relu1");
        x = c.ConvertConvolution(layer.Conv1, layer.Bn2, x, "conv1", "bn2");
        x = c.Convert(layer.Conv2, c.Convert(layer.Relu2, x, "relu2"), "conv2");
        return c.Concat(1, input, c.Convert(layer.Dropout, x, "dropout"));
    }

    private static OnnxValue ConvertDenseNet(OnnxExportContext c, DenseNet model, OnnxValue input)
    {
        var x = c.Convert(model.Conv1, input, "conv1");
        x = c.Convert(model.Transition1, c.Convert(model.Block1, x, "block1"), "transition1");
        x = c.Convert(model.Transition2, c.Convert(model.Block2, x, "block2"), "transition2");
        x = c.Convert(model.Block3, x, "block3");
        return Head(c, model, c.Convert(model.Relu, c.Convert(model.Bn, x, "bn"), "relu"));
    }

    private static OnnxValue ConvertSelfAttention(OnnxExportContext c, MultiHeadSelfAttention attention, OnnxValue input)
    {
        // Tokens N×T×D → heads N×h×T×d: reshape to N×T×h×d, then move the head axis forward (keys go straight to N×h×d×T).
        long tokens = input.Shape[1], heads = attention.Heads, width = attention.HeadDimension;
        OnnxValue Heads(OnnxValue projected, long[] permutation) =>
            c.Transpose(c.ReshapeKeepingBatch(projected, [tokens, heads, width]), permutation);
        var q = Heads(c.Convert(attention.Query, input, "query"), [0, 2, 1, 3]);
        var k = Heads(c.Convert(attention.Key, input, "key"), [0, 2, 3, 1]);
        var v = Heads(c.Convert(attention.Value, input, "value"), [0, 2, 1, 3]);
        var scale = c.AddInitializer(c.CurrentPath + ".scale", tensor((float)(1 / Math.Sqrt(width))));
        var weights = c.Softmax(c.Mul(c.MatMul(q, k), scale), -1);
        var merged = c.ReshapeKeepingBatch(c.Transpose(c.MatMul(weights, v), [0, 2, 1, 3]), [tokens, attention.Dimension]);
        return c.Convert(attention.Projection, merged, "projection");
    }

    private static OnnxValue ConvertTransformerBlock(OnnxExportContext c, TransformerBlock block, OnnxValue input)
    {
        var x = c.Add(input, c.Convert(block.Attention, c.Convert(block.Norm1, input, "norm1"), "attention"));
        var h = c.Convert(block.Fc1, c.Convert(block.Norm2, x, "norm2"), "fc1");
        return c.Add(x, c.Convert(block.Fc2, c.Convert(block.Gelu, h, "gelu"), "fc2"));
    }

    private static OnnxValue ConvertVisionTransformer(OnnxExportContext c, VisionTransformer model, OnnxValue input)
    {
        long grid = model.GridSize, width = model.Dimension;
        var patches = c.Convert(model.PatchEmbedding, input, "patch_embedding");
        var tokens = c.Transpose(c.ReshapeKeepingBatch(patches, [width, grid * grid]), [0, 2, 1]);
        tokens = c.Add(tokens, c.AddInitializer("position", model.Position.detach()));
        tokens = c.Convert(model.Norm, c.Convert(model.Blocks, tokens, "blocks"), "norm");
        return Head(c, model, c.ReshapeKeepingBatch(c.Transpose(tokens, [0, 2, 1]), [width, grid, grid]));
    }

    /// <summary>
    /// The classifier of a zoo model, <paramref name="name"/> being its state-dict name: a Gemm for a linear head; for a cosine
    /// head the embedding divided by its L2 norm (clamped at 1e-12, as <c>F.normalize</c> does) times the unit-norm class weights
    /// scaled by s, folded into one constant.
    /// </summary>
    private static OnnxValue ConvertClassifier(OnnxExportContext c, ImageClassifier model, OnnxValue embedding, string name)
    {
        if (model.Head == HeadKind.Linear)
            return c.Convert(model.Classifier, embedding, name);
        var epsilon = c.AddInitializer(name + ".epsilon", tensor(1e-12f));
        var unit = c.Div(embedding, c.Max(c.ReduceL2(embedding, [1]), epsilon));
        var weight = nn.functional.normalize(model.Classifier.weight!.detach(), p: 2, dim: 1).mul(model.CosineScale);
        var scaled = c.AddInitializer(name + ".cosine_weight", weight);
        return c.AddNode("Gemm", [unit, scaled], unit.Sample.matmul(weight.t()), OnnxAttribute.Int("transB", 1));
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
        return ConvertClassifier(c, model, c.Convert(model.Dropout, pooled, "dropout"), "head");
    }

    /// <summary>The zoo heads' <c>avgpool(features).flatten(1)</c>.</summary>
    private static OnnxValue Pool(OnnxExportContext c, TorchSharp.Modules.AdaptiveAvgPool2d pool, OnnxValue features) =>
        c.Flatten(c.Convert(pool, features, GlobalPoolingClassifier.AvgPoolName));

    /// <summary>
    /// The shared head of <see cref="GlobalPoolingClassifier"/>: the embedding <c>dropout(avgpool(features).flatten(1))</c>, then
    /// its classifier (<see cref="ConvertClassifier"/>).
    /// </summary>
    private static OnnxValue Head(OnnxExportContext c, GlobalPoolingClassifier model, OnnxValue features) =>
        ConvertClassifier(c, model, c.Convert(model.Dropout, Pool(c, model.AvgPool, features), GlobalPoolingClassifier.DropoutName),
            GlobalPoolingClassifier.ClassifierName);
}
