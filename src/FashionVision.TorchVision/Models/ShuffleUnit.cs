using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// ShuffleNetV2's unit (torchvision's <c>shufflenetv2.InvertedResidual</c>, with its names <c>branch1</c> and
/// <c>branch2</c>): with stride 1 the input is split in two channel halves, one passes through and the other through
/// <c>branch2</c> (1×1 conv-BN-ReLU, 3×3 depthwise conv-BN, 1×1 conv-BN-ReLU); with stride 2 both branches see the whole
/// input (<c>branch1</c>: 3×3/2 depthwise conv-BN, 1×1 conv-BN-ReLU). The halves are concatenated and the channels shuffled
/// (two groups interleaved).
/// </summary>
public sealed class ShuffleUnit : nn.Module<Tensor, Tensor>
{
    private readonly Sequential branch1;
    private readonly Sequential branch2;

    /// <summary>Builds the unit.</summary>
    /// <param name="inputChannels">Input width.</param>
    /// <param name="outputChannels">Output width (even).</param>
    /// <param name="stride">1 or 2; stride 1 needs equal, even widths.</param>
    public ShuffleUnit(long inputChannels, long outputChannels, long stride) : base(nameof(ShuffleUnit))
    {
        if (stride is < 1 or > 2)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, "The stride must be 1 or 2.");
        if (outputChannels % 2 != 0)
            throw new ArgumentException($"The output width must be even; got {outputChannels}.", nameof(outputChannels));
        if (stride == 1 && inputChannels != outputChannels)
            throw new ArgumentException($"A stride-1 unit keeps its width; got {inputChannels} → {outputChannels}.", nameof(outputChannels));
        Stride = stride;
        long half = outputChannels / 2;
        branch1 = stride > 1
            ? nn.Sequential(
                nn.Conv2d(inputChannels, inputChannels, 3, stride: stride, padding: 1, groups: inputChannels, bias: false),
                nn.BatchNorm2d(inputChannels),
                nn.Conv2d(inputChannels, half, 1, bias: false),
                nn.BatchNorm2d(half),
                nn.ReLU())
            : nn.Sequential();
        branch2 = nn.Sequential(
            nn.Conv2d(stride > 1 ? inputChannels : half, half, 1, bias: false),
            nn.BatchNorm2d(half),
            nn.ReLU(),
            nn.Conv2d(half, half, 3, stride: stride, padding: 1, groups: half, bias: false),
            nn.BatchNorm2d(half),
            nn.Conv2d(half, half, 1, bias: false),
            nn.BatchNorm2d(half),
            nn.ReLU());
        RegisterComponents();
    }

    /// <summary>The branch over the whole input (stride 2 only; empty otherwise).</summary>
    public Sequential Branch1 => branch1;

    /// <summary>The branch over the second half (stride 1) or the whole input (stride 2).</summary>
    public Sequential Branch2 => branch2;

    /// <summary>The stride (2 halves the resolution and uses both branches).</summary>
    public long Stride { get; }

    /// <summary>Interleaves the channels of <paramref name="input"/> N×C×H×W across <paramref name="groups"/> groups.</summary>
    /// <param name="input">A feature map whose channels divide by <paramref name="groups"/>.</param>
    /// <param name="groups">The number of groups.</param>
    public static Tensor ChannelShuffle(Tensor input, long groups)
    {
        ArgumentNullException.ThrowIfNull(input);
        long n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3];
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(input.view(n, groups, c / groups, h, w).transpose(1, 2).contiguous().view(n, c, h, w));
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor output;
        if (Stride == 1)
        {
            var halves = input.chunk(2, 1);
            output = cat([halves[0], branch2.call(halves[1])], 1);
        }
        else
        {
            output = cat([branch1.call(input), branch2.call(input)], 1);
        }
        return scope.MoveToOuter(ChannelShuffle(output, 2));
    }
}
