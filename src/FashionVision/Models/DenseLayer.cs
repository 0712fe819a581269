using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The bottleneck layer of DenseNet-BC (Huang et al., CVPR 2017): it computes k new feature maps from everything before it
/// and returns its input with them appended, so a <see cref="Sequential"/> of these is a dense block.
/// </summary>
/// <remarks>
/// Structure (input N×in×H×W, output N×(in + k)×H×W):
/// <code>
/// y = Conv1(Relu1(Bn1(x)))      BatchNorm2d(in), ReLU, Conv2d(in, b·k, 1, no bias)      the bottleneck (b = 4 in the paper)
/// y = Conv2(Relu2(Bn2(y)))      BatchNorm2d(b·k), ReLU, Conv2d(b·k, k, 3, padding 1, no bias)
/// y = Dropout(y)                the paper's dropout after each convolution block (p = 0 by default)
/// out = cat(x, y)               along the channels
/// </code>
/// </remarks>
public sealed class DenseLayer : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu1;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn2;
    private readonly ReLU relu2;
    private readonly Conv2d conv2;
    private readonly Dropout dropout;

    /// <summary>Creates the layer.</summary>
    /// <param name="inChannels">Channels of the input (everything the block has produced so far).</param>
    /// <param name="growthRate">The feature maps k this layer adds.</param>
    /// <param name="bottleneckWidth">The bottleneck's width as a multiple of k (4 in the paper).</param>
    /// <param name="dropRate">Dropout on the new feature maps.</param>
    public DenseLayer(long inChannels, long growthRate, long bottleneckWidth = 4, double dropRate = 0.0) : base(nameof(DenseLayer))
    {
        if (inChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Channels must be positive.");
        if (growthRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(growthRate), growthRate, "The growth rate must be positive.");
        if (bottleneckWidth <= 0)
            throw new ArgumentOutOfRangeException(nameof(bottleneckWidth), bottleneckWidth, "The bottleneck width must be positive.");
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        InChannels = inChannels;
        GrowthRate = growthRate;
        bn1 = nn.BatchNorm2d(inChannels);
        relu1 = nn.ReLU(inplace: true);
        conv1 = nn.Conv2d(inChannels, bottleneckWidth * growthRate, 1, bias: false);
        bn2 = nn.BatchNorm2d(bottleneckWidth * growthRate);
        relu2 = nn.ReLU(inplace: true);
        conv2 = nn.Conv2d(bottleneckWidth * growthRate, growthRate, 3, padding: 1, bias: false);
        dropout = nn.Dropout(dropRate);
        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public long InChannels { get; }

    /// <summary>The feature maps k this layer appends.</summary>
    public long GrowthRate { get; }

    /// <summary>Channels of the output (<see cref="InChannels"/> + <see cref="GrowthRate"/>).</summary>
    public long OutChannels => InChannels + GrowthRate;

    /// <summary>BatchNorm of the input.</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>ReLU of the input (in place on the normalised copy).</summary>
    public ReLU Relu1 => relu1;

    /// <summary>The 1×1 bottleneck convolution.</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>BatchNorm after the bottleneck.</summary>
    public BatchNorm2d Bn2 => bn2;

    /// <summary>ReLU after <see cref="Bn2"/>.</summary>
    public ReLU Relu2 => relu2;

    /// <summary>The 3×3 convolution that makes the k new maps.</summary>
    public Conv2d Conv2 => conv2;

    /// <summary>Dropout on the new maps.</summary>
    public Dropout Dropout => dropout;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var y = conv1.call(relu1.call(bn1.call(input)));
        y = dropout.call(conv2.call(relu2.call(bn2.call(y))));
        return scope.MoveToOuter(cat(new[] { input, y }, 1));
    }
}
