using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Convolutional Block Attention Module (Woo et al., ECCV 2018): channel attention followed by spatial attention.
/// </summary>
/// <remarks>
/// Structure (input and output N×C×H×W): <c>y = SpatialGate(ChannelGate(x))</c>, where <see cref="ChannelGate"/> is a
/// <see cref="ChannelAttention"/> (avg- and max-pool, shared 1×1 bottleneck, add, sigmoid, multiply) and
/// <see cref="SpatialGate"/> a <see cref="SpatialAttention"/> (channel mean and max, concat, 7×7 conv, BatchNorm, sigmoid,
/// multiply).
/// </remarks>
public sealed class Cbam : nn.Module<Tensor, Tensor>
{
    private readonly ChannelAttention channel_gate;
    private readonly SpatialAttention spatial_gate;

    /// <summary>Creates the block.</summary>
    /// <param name="channels">Channels C of the input.</param>
    /// <param name="reduction">Reduction ratio of the channel gate's bottleneck (16 in the paper).</param>
    /// <param name="kernelSize">Kernel size of the spatial gate's convolution (7 in the paper).</param>
    public Cbam(long channels, int reduction = 16, int kernelSize = 7) : base(nameof(Cbam))
    {
        channel_gate = new ChannelAttention(channels, reduction);
        spatial_gate = new SpatialAttention(kernelSize);
        RegisterComponents();
    }

    /// <summary>The channel attention, applied first.</summary>
    public ChannelAttention ChannelGate => channel_gate;

    /// <summary>The spatial attention, applied to the channel-gated features.</summary>
    public SpatialAttention SpatialGate => spatial_gate;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(spatial_gate.call(channel_gate.call(input)));
    }
}
