using TorchSharp.Modules;

namespace FashionVision.Onnx.Tests;

/// <summary>
/// Blocks written the way users write their own modules (a forward in code, not a Sequential), with the converters that
/// export them. They exercise residual Add and the SE/CBAM operators (ReduceMean, ReduceMax, Sigmoid, Mul, Concat).
/// </summary>
internal sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    public ResidualBlock(int inChannels, int outChannels, int stride) : base(nameof(ResidualBlock))
    {
        Conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        Bn1 = nn.BatchNorm2d(outChannels);
        Conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: false);
        Bn2 = nn.BatchNorm2d(outChannels);
        Shortcut = stride != 1 || inChannels != outChannels
            ? nn.Sequential(("0", nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false)), ("1", nn.BatchNorm2d(outChannels)))
            : null;
        RegisterComponents();
    }

    public Conv2d Conv1 { get; }
    public BatchNorm2d Bn1 { get; }
    public Conv2d Conv2 { get; }
    public BatchNorm2d Bn2 { get; }
    public Sequential? Shortcut { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(Bn1.call(Conv1.call(input)));
        x = Bn2.call(Conv2.call(x));
        var identity = Shortcut is null ? input : Shortcut.call(input);
        return scope.MoveToOuter(nn.functional.relu(x + identity));
    }

    public static OnnxValue Convert(OnnxExportContext c, ResidualBlock block, OnnxValue input)
    {
        var x = c.Relu(c.ConvertConvolution(block.Conv1, block.Bn1, input, "Conv1", "Bn1"));
        x = c.ConvertConvolution(block.Conv2, block.Bn2, x, "Conv2", "Bn2");
        var identity = block.Shortcut is null ? input : c.Convert(block.Shortcut, input, "Shortcut");
        return c.Relu(c.Add(x, identity));
    }
}

/// <summary>Squeeze-and-excitation: global mean, bottleneck, sigmoid gate per channel.</summary>
internal sealed class SqueezeExcite : nn.Module<Tensor, Tensor>
{
    public SqueezeExcite(int channels, int reduction) : base(nameof(SqueezeExcite))
    {
        Fc1 = nn.Conv2d(channels, channels / reduction, 1);
        Fc2 = nn.Conv2d(channels / reduction, channels, 1);
        RegisterComponents();
    }

    public Conv2d Fc1 { get; }
    public Conv2d Fc2 { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var squeezed = input.mean([2, 3], keepdim: true);
        var gate = Fc2.call(nn.functional.relu(Fc1.call(squeezed))).sigmoid();
        return scope.MoveToOuter(input * gate);
    }

    public static OnnxValue Convert(OnnxExportContext c, SqueezeExcite block, OnnxValue input)
    {
        var squeezed = c.ReduceMean(input, [2, 3]);
        var gate = c.Sigmoid(c.Convert(block.Fc2, c.Relu(c.Convert(block.Fc1, squeezed, "Fc1")), "Fc2"));
        return c.Mul(input, gate);
    }
}

/// <summary>CBAM's spatial attention: channel mean and max, concatenated, a 7×7 convolution, a sigmoid gate per pixel.</summary>
internal sealed class SpatialAttention : nn.Module<Tensor, Tensor>
{
    public SpatialAttention() : base(nameof(SpatialAttention))
    {
        Conv = nn.Conv2d(2, 1, 7, padding: 3);
        RegisterComponents();
    }

    public Conv2d Conv { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var pooled = cat([input.mean([1], keepdim: true), input.amax([1], keepdim: true)], 1);
        return scope.MoveToOuter(input * Conv.call(pooled).sigmoid());
    }

    public static OnnxValue Convert(OnnxExportContext c, SpatialAttention block, OnnxValue input)
    {
        var pooled = c.Concat(1, c.ReduceMean(input, [1]), c.ReduceMax(input, [1]));
        return c.Mul(input, c.Sigmoid(c.Convert(block.Conv, pooled, "Conv")));
    }
}

/// <summary>Models the tests export.</summary>
internal static class TestModels
{
    /// <summary>The default converters plus the test blocks'.</summary>
    public static OnnxConverterRegistry Registry()
    {
        var registry = OnnxConverterRegistry.CreateDefault();
        registry.Register<ResidualBlock>(ResidualBlock.Convert);
        registry.Register<SqueezeExcite>(SqueezeExcite.Convert);
        registry.Register<SpatialAttention>(SpatialAttention.Convert);
        return registry;
    }

    /// <summary>A small CNN with BatchNorm, pooling and a Linear head.</summary>
    public static Sequential SmallCnn(long seed = 1)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("conv1", nn.Conv2d(1, 16, 3, padding: 1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()),
            ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()),
            ("pool2", nn.MaxPool2d(2)),
            ("flatten", nn.Flatten()), ("fc1", nn.Linear(32 * 7 * 7, 64)), ("relu3", nn.ReLU()),
            ("dropout", nn.Dropout(0.25)), ("fc", nn.Linear(64, 10)));
    }

    /// <summary>A residual network with SE and spatial attention, global average pooling and a Linear head.</summary>
    public static Sequential AttentionResNet(long seed = 2)
    {
        manual_seed(seed);
        return nn.Sequential(
            ("stem", nn.Conv2d(1, 16, 3, padding: 1, bias: false)), ("stem_bn", nn.BatchNorm2d(16)), ("stem_act", nn.ReLU()),
            ("block1", new ResidualBlock(16, 16, 1)),
            ("se", new SqueezeExcite(16, 4)),
            ("block2", new ResidualBlock(16, 32, 2)),
            ("spatial", new SpatialAttention()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flatten", nn.Flatten()), ("dropout", nn.Dropout(0.2)),
            ("fc", nn.Linear(32, 10)));
    }

    /// <summary>Gives every BatchNorm non-trivial running statistics and affine parameters, as after training.</summary>
    public static void RandomizeBatchNorm(nn.Module model, long seed = 3)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not BatchNorm2d bn) continue;
            var n = bn.num_features;
            bn.running_mean!.copy_(randn(n, generator: generator) * 0.1f);
            bn.running_var!.copy_(rand(n, generator: generator) * 0.5f + 0.75f);
            bn.weight!.copy_(rand(n, generator: generator) * 0.5f + 0.75f);
            bn.bias!.copy_(randn(n, generator: generator) * 0.1f);
        }
    }
}
