using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Squeeze-and-Excitation (Hu et al., CVPR 2018): rescales each channel by a gate computed from the globally pooled features.
/// </summary>
/// <remarks>
/// Structure (input and output N×C×H×W):
/// <code>
/// s = Pool(x)                       AdaptiveAvgPool2d(1)           N×C×1×1
/// s = Reduce(s) → Activation        Conv2d(C, C/r, 1) → ReLU       N×C/r×1×1
/// s = Expand(s) → Gate              Conv2d(C/r, C, 1) → Sigmoid    N×C×1×1
/// y = x * s                         broadcast multiply
/// </code>
/// The two fully connected layers are 1×1 convolutions (with bias), which is the same computation on a 1×1 map.
/// </remarks>
public sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>
{
    private readonly AdaptiveAvgPool2d pool;
    private readonly Conv2d reduce;
    private readonly ReLU activation;
    private readonly Conv2d expand;
    private readonly Sigmoid gate;

    /// <summary>Creates the block.</summary>
    /// <param name="channels">Channels C of the input.</param>
    /// <param name="reduction">Reduction ratio r of the bottleneck (16 in the paper); the hidden width is max(1, C / r).</param>
    public SqueezeExcitation(long channels, int reduction = 16) : base(nameof(SqueezeExcitation))
    {
        HiddenChannels = AttentionFactory.BottleneckWidth(channels, reduction);
        Channels = channels;
        pool = nn.AdaptiveAvgPool2d(1);
        reduce = nn.Conv2d(channels, HiddenChannels, 1);
        activation = nn.ReLU();
        expand = nn.Conv2d(HiddenChannels, channels, 1);
        gate = nn.Sigmoid();
        RegisterComponents();
    }

    /// <summary>Channels C of the input and output.</summary>
    public long Channels { get; }

    /// <summary>Width of the bottleneck, max(1, C / r).</summary>
    public long HiddenChannels { get; }

    /// <summary>The squeeze: global average pooling to N×C×1×1.</summary>
    public AdaptiveAvgPool2d Pool => pool;

    /// <summary>The first excitation layer, C → C/r (1×1 convolution).</summary>
    public Conv2d Reduce => reduce;

    /// <summary>The ReLU between the two excitation layers.</summary>
    public ReLU Activation => activation;

    /// <summary>The second excitation layer, C/r → C (1×1 convolution).</summary>
    public Conv2d Expand => expand;

    /// <summary>The sigmoid that turns the excitation into a gate in (0, 1).</summary>
    public Sigmoid Gate => gate;

    /// <summary>Computes the per-channel gate N×C×1×1 without applying it.</summary>
    /// <param name="input">Features N×C×H×W.</param>
    public Tensor ComputeGate(Tensor input)
    {
        using var scope = NewDisposeScope();
        var s = gate.call(expand.call(activation.call(reduce.call(pool.call(input)))));
        return scope.MoveToOuter(s);
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(input * ComputeGate(input));
    }
}
