using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>One mini-batch from a <see cref="DataLoader"/>.</summary>
/// <param name="Images">float32 images N×C×H×W on the loader's device, scaled to [0, 1] and normalised if asked.</param>
/// <param name="Labels">int64 class indices N on the loader's device.</param>
/// <param name="Indices">int64 positions of these images in the dataset, N.</param>
public readonly record struct Batch(Tensor Images, Tensor Labels, Tensor Indices)
{
    /// <summary>The number of images in the batch.</summary>
    public int Size => (int)Images.shape[0];
}
