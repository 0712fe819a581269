using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// The pooling of the FastCnn family's head: global average and global max pooling side by side (2C features from C
/// channels), in float32 whatever the feature map's compute format.
/// </summary>
internal static class ConcatPooling
{
    /// <summary>Pools N×C×H×W features to N×2C: the channel means, then the channel maxima.</summary>
    public static Tensor Apply(Tensor features)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(MixedPrecision.ToFloat32(cat(new[] { features.mean(new long[] { 2, 3 }), features.amax(new long[] { 2, 3 }) }, 1)));
    }
}
