using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The channel-attention half of <see cref="Cbam"/> (Woo et al., ECCV 2018): a shared bottleneck applied to the average- and
/// the max-pooled features, summed, gives a per-channel gate.
/// </summary>
/// <remarks>
/// Structure (input and output N×C×H×W; the same Reduce/Activation/Expand weights serve both branches):
/// <code>
/// a = Expand(Activation(Reduce(AvgPool(x))))    AdaptiveAvgPool2d(1), Conv2d(C, C/r, 1), ReLU, Conv2d(C/r, C, 1)
/// m = Expand(Activation(Reduce(MaxPool(x))))    AdaptiveMaxPool2d(1), same layers
/// y = x * Gate(a + m)                           add, Sigmoid, broadcast multiply
/// </code>
/// </remarks>
public sealed class ChannelAttention : nn.Module<Tensor, Tensor>
{
    private readonly AdaptiveAvgPool2d avg_pool;
    private readonly AdaptiveMaxPool2d max_pool;
    private readonly Conv2d reduce;
    private readonly ReLU activation;
    private readonly Conv2d expand;
    private readonly Sigmoid gate;

    /// <summary>Creates the block.</summary>
    /// <param name="channels">Channels C of the input.</param>
    /// <param name="reduction">Reduction ratio r of the shared bottleneck (16 in the paper); hidden width max(1, C / r).</param>
    public ChannelAttention(long channels, int reduction = 16) : base(nameof(ChannelAttention))
    {
        HiddenChannels = AttentionFactory.BottleneckWidth(channels, reduction);
        Channels = channels;
        avg_pool = nn.AdaptiveAvgPool2d(1);
        max_pool = nn.AdaptiveMaxPool2d(new long[] { 1, 1 });
        reduce = nn.Conv2d(channels, HiddenChannels, 1);
        activation = nn.ReLU();
        expand = nn.Conv2d(HiddenChannels, channels, 1);
        gate = nn.Sigmoid();
        RegisterComponents();
    }

    /// <summary>Channels C of the input and output.</summary>
    public long Channels { get; }

    /// <summary>Width of the shared bottleneck, max(1, C / r).</summary>
    public long HiddenChannels { get; }

    /// <summary>Global average pooling to N×C×1×1.</summary>
    public AdaptiveAvgPool2d AvgPool => avg_pool;

    /// <summary>Global max pooling to N×C×1×1.</summary>
    public AdaptiveMaxPool2d MaxPool => max_pool;

    /// <summary>The shared first layer, C → C/r (1×1 convolution).</summary>
    public Conv2d Reduce => reduce;

    /// <summary>The ReLU of the shared bottleneck.</summary>
    public ReLU Activation => activation;

    /// <summary>The shared second layer, C/r → C (1×1 convolution).</summary>
    public Conv2d Expand => expand;

    /// <summary>The sigmoid applied to the sum of both branches.</summary>
    public Sigmoid Gate => gate;

    /// <summary>Computes the per-channel gate N×C×1×1 without applying it.</summary>
    /// <param name="input">Features N×C×H×W.</param>
    public Tensor ComputeGate(Tensor input)
    {
        using var scope = NewDisposeScope();
        var a = expand.call(activation.call(reduce.call(avg_pool.call(input))));
        var m = expand.call(activation.call(reduce.call(max_pool.call(input))));
        return scope.MoveToOuter(gate.call(a + m));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(input * ComputeGate(input));
    }
}
