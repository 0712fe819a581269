using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The depthwise-separable convolution of MobileNet (Howard et al. 2017): a 3×3 depthwise convolution (one filter per
/// channel) followed by a 1×1 pointwise convolution, each with BatchNorm and ReLU; about 8–9× fewer multiply-adds than a
/// full 3×3 convolution.
/// </summary>
/// <remarks>
/// Structure (input N×in×H×W, output N×out×H/stride×W/stride):
/// <code>
/// x = Relu1(Bn1(Depthwise(x)))   Conv2d(in, in, 3, stride, padding 1, groups in, no bias), BatchNorm2d, ReLU
/// x = Relu2(Bn2(Pointwise(x)))   Conv2d(in, out, 1, no bias), BatchNorm2d, ReLU
/// y = Attention(x)               optional: SqueezeExcitation or Cbam
/// </code>
/// </remarks>
public sealed class DepthwiseSeparableConv : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d depthwise;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu1;
    private readonly Conv2d pointwise;
    private readonly BatchNorm2d bn2;
    private readonly ReLU relu2;
    private readonly nn.Module<Tensor, Tensor>? attention;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="stride">Stride of the depthwise convolution.</param>
    /// <param name="attention">Attention applied to the output.</param>
    public DepthwiseSeparableConv(long inChannels, long outChannels, long stride = 1, AttentionKind attention = AttentionKind.None)
        : base(nameof(DepthwiseSeparableConv))
    {
        Initialization.CheckBlock(inChannels, outChannels, stride);
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        depthwise = nn.Conv2d(inChannels, inChannels, 3, stride: stride, padding: 1, groups: inChannels, bias: false);
        bn1 = nn.BatchNorm2d(inChannels);
        relu1 = nn.ReLU();
        pointwise = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        relu2 = nn.ReLU();
        this.attention = AttentionFactory.Create(attention, outChannels);
        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public long InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public long OutChannels { get; }

    /// <summary>Stride of the depthwise convolution.</summary>
    public long Stride { get; }

    /// <summary>The 3×3 depthwise convolution (groups = input channels).</summary>
    public Conv2d Depthwise => depthwise;

    /// <summary>BatchNorm after <see cref="Depthwise"/>.</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>ReLU after <see cref="Bn1"/>.</summary>
    public ReLU Relu1 => relu1;

    /// <summary>The 1×1 pointwise convolution.</summary>
    public Conv2d Pointwise => pointwise;

    /// <summary>BatchNorm after <see cref="Pointwise"/>.</summary>
    public BatchNorm2d Bn2 => bn2;

    /// <summary>ReLU after <see cref="Bn2"/>.</summary>
    public ReLU Relu2 => relu2;

    /// <summary>The attention on the output, or null.</summary>
    public nn.Module<Tensor, Tensor>? Attention => attention;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = relu1.call(bn1.call(depthwise.call(input)));
        output = relu2.call(bn2.call(pointwise.call(output)));
        if (attention is not null)
            output = attention.call(output);
        return scope.MoveToOuter(output);
    }
}
