using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The residual block of ResNet-18/34 (He et al., CVPR 2016), with parameter names as in torchvision's <c>BasicBlock</c>
/// and an optional attention module on the residual branch (SE-ResNet, CBAM-ResNet).
/// </summary>
/// <remarks>
/// Structure (input N×in×H×W, output N×planes×H/stride×W/stride; the inner width is planes unless given, e.g. after pruning):
/// <code>
/// out = Relu(Bn1(Conv1(x)))          Conv2d(in, inner, 3, stride, padding 1, no bias), BatchNorm2d, ReLU
/// out = Bn2(Conv2(out))              Conv2d(inner, planes, 3, padding 1, no bias), BatchNorm2d
/// out = Attention(out)               optional: SqueezeExcitation or Cbam (absent from the state dict when null)
/// identity = Downsample(x) or x      Sequential(Conv2d(in, planes, 1, stride, no bias), BatchNorm2d) when the shape changes
/// y = Relu(out + identity)           add, ReLU (the same ReLU module as above)
/// </code>
/// State-dict names: <c>conv1, bn1, conv2, bn2, downsample.0, downsample.1</c> (torchvision's), and <c>attention</c>.
/// </remarks>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly nn.Module<Tensor, Tensor>? attention;
    private readonly Sequential? downsample;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="planes">Channels of the output.</param>
    /// <param name="stride">Stride of the first convolution (2 halves the resolution).</param>
    /// <param name="attention">Attention applied to the residual branch before the addition.</param>
    /// <param name="innerChannels">Channels between the two convolutions (null: <paramref name="planes"/>).</param>
    public BasicBlock(long inChannels, long planes, long stride = 1, AttentionKind attention = AttentionKind.None, long? innerChannels = null)
        : base(nameof(BasicBlock))
    {
        Initialization.CheckBlock(inChannels, planes, stride, nameof(planes));
        if (innerChannels is <= 0)
            throw new ArgumentOutOfRangeException(nameof(innerChannels), innerChannels, "Channels must be positive.");
        InChannels = inChannels;
        Planes = planes;
        InnerChannels = innerChannels ?? planes;
        Stride = stride;
        conv1 = nn.Conv2d(inChannels, InnerChannels, 3, stride: stride, padding: 1, bias: false);
        bn1 = nn.BatchNorm2d(InnerChannels);
        relu = nn.ReLU();
        conv2 = nn.Conv2d(InnerChannels, planes, 3, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        this.attention = AttentionFactory.Create(attention, planes);
        if (stride != 1 || inChannels != planes)
            downsample = nn.Sequential(nn.Conv2d(inChannels, planes, 1, stride: stride, bias: false), nn.BatchNorm2d(planes));
        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public long InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public long Planes { get; }

    /// <summary>Channels between the two convolutions (<see cref="Planes"/> unless pruned).</summary>
    public long InnerChannels { get; }

    /// <summary>Stride of the first convolution and of the downsample path.</summary>
    public long Stride { get; }

    /// <summary>First 3×3 convolution (carries the stride).</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>BatchNorm after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>The ReLU used after <see cref="Bn1"/> and after the addition.</summary>
    public ReLU Relu => relu;

    /// <summary>Second 3×3 convolution.</summary>
    public Conv2d Conv2 => conv2;

    /// <summary>BatchNorm after <see cref="Conv2"/>.</summary>
    public BatchNorm2d Bn2 => bn2;

    /// <summary>The attention on the residual branch (<see cref="SqueezeExcitation"/> or <see cref="Cbam"/>), or null.</summary>
    public nn.Module<Tensor, Tensor>? Attention => attention;

    /// <summary>The projection shortcut (1×1 convolution + BatchNorm), or null when the input is added unchanged.</summary>
    public Sequential? Downsample => downsample;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = relu.call(bn1.call(conv1.call(input)));
        output = bn2.call(conv2.call(output));
        if (attention is not null)
            output = attention.call(output);
        var identity = downsample is null ? input : downsample.call(input);
        return scope.MoveToOuter(relu.call(output + identity));
    }
}
