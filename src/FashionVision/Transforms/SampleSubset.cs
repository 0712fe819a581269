using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Runs a transform on the samples a mask selects and writes the results back in place of the originals.</summary>
internal static class SampleSubset
{
    /// <summary>
    /// Applies <paramref name="transform"/> to the selected samples only. If the transform turned hard targets into soft ones,
    /// the other samples' targets become one-hot. The transform must keep the image size.
    /// </summary>
    public static (Tensor Images, Tensor Targets) Apply(IBatchTransform transform, Tensor images, Tensor targets, Tensor selected,
        Generator generator)
    {
        var index = selected.to(images.device).nonzero().view(-1);
        long count = index.shape[0];
        if (count == 0)
            return (images, targets);
        if (count == images.shape[0])
            return transform.Apply(images, targets, generator);
        var (subImages, subTargets) = transform.Apply(images.index_select(0, index), targets.index_select(0, index), generator);
        if (!subImages.shape.Skip(1).SequenceEqual(images.shape.Skip(1)))
            throw new InvalidOperationException(
                $"{transform.Describe()} changed the image size; only size-preserving transforms can run on part of a batch.");
        var outImages = images.index_copy(0, index, subImages.to(images.dtype));
        Tensor outTargets;
        if (subTargets.dim() == targets.dim())
            outTargets = targets.index_copy(0, index, subTargets.to(targets.dtype));
        else
        {
            int numClasses = (int)subTargets.shape[1];
            outTargets = TransformFunctional.ToSoftTargets(targets, numClasses, subTargets.dtype).index_copy(0, index, subTargets);
        }
        return (outImages, outTargets);
    }
}
