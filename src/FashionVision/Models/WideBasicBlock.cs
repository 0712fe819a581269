using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The pre-activation residual block of Wide ResNets (Zagoruyko &amp; Komodakis, BMVC 2016), with dropout between the two
/// convolutions and optional attention on the residual branch.
/// </summary>
/// <remarks>
/// Structure (input N×in×H×W, output N×out×H/stride×W/stride):
/// <code>
/// a = Relu1(Bn1(x))                     BatchNorm2d(in), ReLU
/// out = Conv1(a)                        Conv2d(in, out, 3, stride, padding 1, no bias)
/// out = Conv2(Dropout(Relu2(Bn2(out)))) BatchNorm2d(out), ReLU, Dropout(p), Conv2d(out, out, 3, padding 1, no bias)
/// out = Attention(out)                  optional: SqueezeExcitation or Cbam
/// y = out + (Shortcut(a) or x)          1×1 Conv2d(in, out, stride, no bias) on the activated input when the shape changes
/// </code>
/// Without a shortcut convolution the block adds its raw input <c>x</c>; with one, the projection sees the pre-activated
/// <c>a</c>, as in the authors' code.
/// </remarks>
public sealed class WideBasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly BatchNorm2d bn1;
    private readonly ReLU relu1;
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn2;
    private readonly ReLU relu2;
    private readonly Dropout dropout;
    private readonly Conv2d conv2;
    private readonly nn.Module<Tensor, Tensor>? attention;
    private readonly Conv2d? shortcut;

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="stride">Stride of the first convolution and of the shortcut.</param>
    /// <param name="dropRate">Dropout probability between the convolutions (0.3 in the paper).</param>
    /// <param name="attention">Attention applied to the residual branch before the addition.</param>
    public WideBasicBlock(long inChannels, long outChannels, long stride = 1, double dropRate = 0.0,
        AttentionKind attention = AttentionKind.None) : base(nameof(WideBasicBlock))
    {
        Initialization.CheckBlock(inChannels, outChannels, stride);
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        InChannels = inChannels;
        OutChannels = outChannels;
        Stride = stride;
        bn1 = nn.BatchNorm2d(inChannels);
        relu1 = nn.ReLU();
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        relu2 = nn.ReLU();
        dropout = nn.Dropout(dropRate);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: 1, bias: false);
        this.attention = AttentionFactory.Create(attention, outChannels);
        if (stride != 1 || inChannels != outChannels)
            shortcut = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false);
        RegisterComponents();
    }

    /// <summary>Channels of the input.</summary>
    public long InChannels { get; }

    /// <summary>Channels of the output.</summary>
    public long OutChannels { get; }

    /// <summary>Stride of the first convolution and of the shortcut.</summary>
    public long Stride { get; }

    /// <summary>BatchNorm of the input (pre-activation).</summary>
    public BatchNorm2d Bn1 => bn1;

    /// <summary>ReLU after <see cref="Bn1"/>.</summary>
    public ReLU Relu1 => relu1;

    /// <summary>First 3×3 convolution (carries the stride).</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>BatchNorm after <see cref="Conv1"/>.</summary>
    public BatchNorm2d Bn2 => bn2;

    /// <summary>ReLU after <see cref="Bn2"/>.</summary>
    public ReLU Relu2 => relu2;

    /// <summary>Dropout between the convolutions (identity in evaluation mode).</summary>
    public Dropout Dropout => dropout;

    /// <summary>Second 3×3 convolution.</summary>
    public Conv2d Conv2 => conv2;

    /// <summary>The attention on the residual branch, or null.</summary>
    public nn.Module<Tensor, Tensor>? Attention => attention;

    /// <summary>The 1×1 projection shortcut, or null when the input is added unchanged.</summary>
    public Conv2d? Shortcut => shortcut;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var activated = relu1.call(bn1.call(input));
        var output = conv1.call(activated);
        output = conv2.call(dropout.call(relu2.call(bn2.call(output))));
        if (attention is not null)
            output = attention.call(output);
        var identity = shortcut is null ? input : shortcut.call(activated);
        return scope.MoveToOuter(output + identity);
    }
}
