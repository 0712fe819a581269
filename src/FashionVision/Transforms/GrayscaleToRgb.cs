using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Repeats a single grey channel into three (N×1×H×W → N×3×H×W) for models pretrained on RGB images.</summary>
public sealed class GrayscaleToRgb : BatchTransform
{
    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        if (images.shape[1] == 3)
            return (images, targets);
        if (images.shape[1] != 1)
            throw new ArgumentException($"GrayscaleToRgb needs 1-channel images; got {images.shape[1]} channels.", nameof(images));
        return (images.expand(-1, 3, -1, -1).contiguous(), targets);
    }

    /// <inheritdoc />
    public override string Describe() => "GrayscaleToRgb()";
}
