using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The spatial-attention half of <see cref="Cbam"/> (Woo et al., ECCV 2018): the channel-wise mean and max maps, concatenated
/// and convolved, give a per-pixel gate.
/// </summary>
/// <remarks>
/// Structure (input and output N×C×H×W):
/// <code>
/// d = cat([mean(x, dim 1, keepdim), max(x, dim 1, keepdim)], dim 1)   N×2×H×W
/// g = Gate(Norm(Conv(d)))        Conv2d(2, 1, k, padding k/2, no bias), BatchNorm2d(1), Sigmoid   N×1×H×W
/// y = x * g                      broadcast multiply
/// </code>
/// </remarks>
public sealed class SpatialAttention : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly Sigmoid gate;

    /// <summary>Creates the block.</summary>
    /// <param name="kernelSize">Odd kernel size of the convolution (7 in the paper).</param>
    public SpatialAttention(int kernelSize = 7) : base(nameof(SpatialAttention))
    {
        if (kernelSize <= 0 || kernelSize % 2 == 0)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), kernelSize, "The kernel size must be a positive odd number.");
        KernelSize = kernelSize;
        conv = nn.Conv2d(2, 1, kernelSize, padding: kernelSize / 2, bias: false);
        bn = nn.BatchNorm2d(1);
        gate = nn.Sigmoid();
        RegisterComponents();
    }

    /// <summary>Kernel size of the convolution.</summary>
    public int KernelSize { get; }

    /// <summary>The 2 → 1 convolution over the pooled maps (no bias).</summary>
    public Conv2d Conv => conv;

    /// <summary>The BatchNorm after the convolution.</summary>
    public BatchNorm2d Norm => bn;

    /// <summary>The sigmoid that turns the map into a gate in (0, 1).</summary>
    public Sigmoid Gate => gate;

    /// <summary>Computes the per-pixel gate N×1×H×W without applying it.</summary>
    /// <param name="input">Features N×C×H×W.</param>
    public Tensor ComputeGate(Tensor input)
    {
        using var scope = NewDisposeScope();
        var pooled = cat(new[] { input.mean(new long[] { 1 }, keepdim: true), input.amax(new long[] { 1 }, keepdim: true) }, 1);
        return scope.MoveToOuter(gate.call(bn.call(conv.call(pooled))));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(input * ComputeGate(input));
    }
}
