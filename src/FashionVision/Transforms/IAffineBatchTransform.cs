using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// A transform whose effect on each sample is an affine map of the image plane (flips, rotations, translations, zooms, shears).
/// <see cref="Compose"/> fuses consecutive ones into a single resampling of the batch.
/// </summary>
public interface IAffineBatchTransform : IBatchTransform
{
    /// <summary>
    /// Draws the forward maps this transform would apply to a batch of the given shape (N×2×3 row-major, six values per sample, in
    /// pixel units about the centre; the identity for samples it leaves unchanged), taking exactly the values from the generator
    /// that <see cref="IBatchTransform.Apply"/> takes.
    /// </summary>
    /// <param name="shape">The images' shape N×C×H×W.</param>
    /// <param name="generator">The CPU generator.</param>
    float[] DrawMatrices(long[] shape, Generator generator);

    /// <summary>The value for areas that come from outside the image, or null when the map never reads outside it (flips).</summary>
    double? Fill { get; }
}
