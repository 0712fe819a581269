using FashionVision.Models;

namespace FashionVision.Tests.Models;

/// <summary>The building blocks, alone.</summary>
public class BlockTests
{
    private static Tensor Input(long channels, long size = 8, int batch = 2) =>
        randn(new long[] { batch, channels, size, size }, generator: new Generator(3));

    [Test]
    public void SqueezeExcitationScalesEachChannelByAGateInZeroOne()
    {
        using var scope = NewDisposeScope();
        using var se = new SqueezeExcitation(32, reduction: 8);
        Assert.That(se.HiddenChannels, Is.EqualTo(4));
        var x = Input(32);
        var gate = se.ComputeGate(x);
        Assert.That(gate.shape, Is.EqualTo(new long[] { 2, 32, 1, 1 }));
        Assert.That(gate.gt(0).all().item<bool>() && gate.lt(1).all().item<bool>(), Is.True);
        Assert.That(se.call(x).allclose(x * gate), Is.True);

        // With a zero excitation every gate is sigmoid(0) = 0.5.
        using (no_grad())
        {
            se.Expand.weight.zero_();
            se.Expand.bias!.zero_();
        }
        Assert.That(se.call(x).allclose(x * 0.5), Is.True);
    }

    [Test]
    public void SqueezeExcitationGateDependsOnlyOnChannelMeans()
    {
        using var scope = NewDisposeScope();
        using var se = new SqueezeExcitation(16, reduction: 4);
        var x = Input(16);
        var shuffled = x.flatten(2).index_select(2, randperm(64, generator: new Generator(1))).reshape(x.shape);
        Assert.That(se.ComputeGate(shuffled).allclose(se.ComputeGate(x), 1e-5, 1e-6), Is.True, "pooling ignores where values are");
    }

    [Test]
    public void CbamAppliesChannelThenSpatialAttention()
    {
        using var scope = NewDisposeScope();
        using var cbam = new Cbam(32, reduction: 8);
        cbam.eval();
        var x = Input(32);
        var channelGate = cbam.ChannelGate.ComputeGate(x);
        Assert.That(channelGate.shape, Is.EqualTo(new long[] { 2, 32, 1, 1 }));
        var afterChannel = x * channelGate;
        var spatialGate = cbam.SpatialGate.ComputeGate(afterChannel);
        Assert.That(spatialGate.shape, Is.EqualTo(new long[] { 2, 1, 8, 8 }));
        Assert.That(cbam.call(x).allclose(afterChannel * spatialGate, 1e-5, 1e-6), Is.True);
    }

    [Test]
    public void ChannelAttentionSharesItsBottleneckBetweenAverageAndMaxPooling()
    {
        using var scope = NewDisposeScope();
        using var attention = new ChannelAttention(8, reduction: 2);
        var x = Input(8);
        Tensor Mlp(Tensor t) => attention.Expand.call(nn.functional.relu(attention.Reduce.call(t)));
        var expected = sigmoid(Mlp(x.mean(new long[] { 2, 3 }, keepdim: true)) + Mlp(x.amax(new long[] { 2, 3 }, keepdim: true)));
        Assert.That(attention.ComputeGate(x).allclose(expected, 1e-5, 1e-6), Is.True);
        Assert.That(attention.call(x).allclose(x * expected, 1e-5, 1e-6), Is.True);
    }

    [Test]
    public void SpatialAttentionPoolsOverChannels()
    {
        using var scope = NewDisposeScope();
        using var attention = new SpatialAttention(kernelSize: 3);
        attention.eval();
        Assert.That(attention.Conv.weight.shape, Is.EqualTo(new long[] { 1, 2, 3, 3 }));
        var x = Input(6);
        var permuted = x.index_select(1, tensor(new long[] { 5, 4, 3, 2, 1, 0 }));
        Assert.That(attention.ComputeGate(permuted).allclose(attention.ComputeGate(x), 1e-5, 1e-6), Is.True,
            "mean and max over channels do not depend on channel order");
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpatialAttention(4));
    }

    [Test]
    public void BasicBlockWithAZeroResidualBranchIsReluOfItsShortcut()
    {
        using var scope = NewDisposeScope();
        using var identity = new BasicBlock(16, 16);
        Assert.That(identity.Downsample, Is.Null);
        using (no_grad())
            identity.Bn2.weight!.zero_();
        identity.eval();
        var x = Input(16);
        Assert.That(identity.call(x).Identical(nn.functional.relu(x)), Is.True);

        using var projecting = new BasicBlock(16, 32, stride: 2);
        Assert.That(projecting.Downsample, Is.Not.Null);
        using (no_grad())
            projecting.Bn2.weight!.zero_();
        projecting.eval();
        Assert.That(projecting.call(x).allclose(nn.functional.relu(projecting.Downsample!.call(x))), Is.True);
        Assert.That(projecting.call(x).shape, Is.EqualTo(new long[] { 2, 32, 4, 4 }));
    }

    [Test]
    public void BasicBlockKeepsTorchvisionNames()
    {
        using var block = new BasicBlock(64, 128, stride: 2);
        Assert.That(block.state_dict().Keys, Is.EquivalentTo(new[]
        {
            "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "conv2.weight", "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked",
            "downsample.0.weight", "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean",
            "downsample.1.running_var", "downsample.1.num_batches_tracked",
        }));
        using var withSe = new BasicBlock(64, 64, attention: AttentionKind.SqueezeExcitation);
        Assert.That(withSe.Attention, Is.InstanceOf<SqueezeExcitation>());
        Assert.That(withSe.state_dict().Keys, Does.Contain("attention.reduce.weight"));
    }

    [Test]
    public void WideBasicBlockWithAZeroSecondConvolutionPassesItsShortcut()
    {
        using var scope = NewDisposeScope();
        var x = Input(16);
        using var same = new WideBasicBlock(16, 16, dropRate: 0.3);
        using (no_grad())
            same.Conv2.weight.zero_();
        same.eval();
        Assert.That(same.Shortcut, Is.Null);
        Assert.That(same.call(x).Identical(x), Is.True, "pre-activation identity blocks add the raw input");

        using var widening = new WideBasicBlock(16, 32, stride: 2);
        using (no_grad())
            widening.Conv2.weight.zero_();
        widening.eval();
        var expected = widening.Shortcut!.call(nn.functional.relu(widening.Bn1.call(x)));
        Assert.That(widening.call(x).allclose(expected), Is.True, "the projection sees the activated input");
        Assert.Throws<ArgumentOutOfRangeException>(() => new WideBasicBlock(16, 16, dropRate: 1.5));
    }

    [Test]
    public void DepthwiseSeparableConvFiltersEachChannelAlone()
    {
        using var scope = NewDisposeScope();
        using var block = new DepthwiseSeparableConv(8, 16, stride: 2);
        Assert.That(block.Depthwise.groups, Is.EqualTo(8));
        Assert.That(block.Depthwise.weight.shape, Is.EqualTo(new long[] { 8, 1, 3, 3 }));
        Assert.That(block.Pointwise.weight.shape, Is.EqualTo(new long[] { 16, 8, 1, 1 }));
        block.eval();
        var x = Input(8);
        Assert.That(block.call(x).shape, Is.EqualTo(new long[] { 2, 16, 4, 4 }));
        // Changing channel 0 of the input changes only channel 0 after the depthwise stage.
        var y = x.clone();
        y[.., 0] += 1;
        var dx = block.Depthwise.call(x);
        var dy = block.Depthwise.call(y);
        Assert.That(dx[.., 1..].Identical(dy[.., 1..]), Is.True);
        Assert.That(dx[.., 0].Identical(dy[.., 0]), Is.False);
    }

    [Test]
    public void AttentionFactoryMapsKinds()
    {
        Assert.That(AttentionFactory.Create(AttentionKind.None, 8), Is.Null);
        Assert.That(AttentionFactory.Create(AttentionKind.SqueezeExcitation, 8), Is.InstanceOf<SqueezeExcitation>());
        Assert.That(AttentionFactory.Create(AttentionKind.Cbam, 8), Is.InstanceOf<Cbam>());
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionFactory.Create((AttentionKind)42, 8));
    }
}
