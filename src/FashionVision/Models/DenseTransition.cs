using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The transition between two dense blocks of DenseNet-BC: compresses the channels by θ and halves the resolution.
/// </summary>
/// <remarks>
/// Structure: <c>Pool(Conv(Relu(Bn(x))))</c> with BatchNorm2d(in), ReLU, Conv2d(in, ⌊θ·in⌋, 1, no bias), AvgPool2d(2).
/// </remarks>
public sealed class DenseTransition : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn;
    private readonly ReLU relu;
    private readonly Conv2d conv;
    private readonly AvgPool2d pool;

    /// <summary>Creates the transition.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output (θ·in in DenseNet-BC, θ = 0.5).</param>
    public DenseTransition(long inChannels, long outChannels) : base(nameof(DenseTransition))
    {
        if (inChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Channels must be positive.");
        if (outChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "Channels must be positive.");
        OutChannels = outChannels;
        bn = nn.BatchNorm2d(inChannels);
        relu = nn.ReLU(inplace: true);
        conv = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        pool = nn.AvgPool2d(2);
        RegisterComponents();
    }

    /// <summary>Channels of the output.</summary>
    public long OutChannels { get; }

    /// <summary>BatchNorm of the input.</summary>
    public BatchNorm2d Bn => bn;

    /// <summary>ReLU after <see cref="Bn"/>.</summary>
    public ReLU Relu => relu;

    /// <summary>The 1×1 compression convolution.</summary>
    public Conv2d Conv => conv;

    /// <summary>The 2×2 average pooling.</summary>
    public AvgPool2d Pool => pool;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(pool.call(conv.call(relu.call(bn.call(input)))));
    }
}
