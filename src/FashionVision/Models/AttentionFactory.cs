using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>Creates the attention module for an <see cref="AttentionKind"/>, the way the zoo's blocks insert it.</summary>
public static class AttentionFactory
{
    /// <summary>Creates the attention module for <paramref name="channels"/> channels, or <see langword="null"/> for <see cref="AttentionKind.None"/>.</summary>
    /// <param name="kind">Which attention.</param>
    /// <param name="channels">Channels of the features it gates.</param>
    /// <param name="reduction">Reduction ratio of the bottleneck (16 as in both papers).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="kind"/> is not a defined value.</exception>
    public static nn.Module<Tensor, Tensor>? Create(AttentionKind kind, long channels, int reduction = 16) => kind switch
    {
        AttentionKind.None => null,
        AttentionKind.SqueezeExcitation => new SqueezeExcitation(channels, reduction),
        AttentionKind.Cbam => new Cbam(channels, reduction),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown attention kind."),
    };

    /// <summary>
    /// The hidden width max(1, C / r) of the channel bottleneck that squeeze-and-excitation and CBAM's channel attention
    /// share, after checking both arguments.
    /// </summary>
    internal static long BottleneckWidth(long channels, int reduction)
    {
        if (channels <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Channels must be positive.");
        if (reduction <= 0)
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction, "The reduction ratio must be positive.");
        return Math.Max(1, channels / reduction);
    }
}
