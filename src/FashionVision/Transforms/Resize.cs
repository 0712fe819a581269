using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>Resizes every image to <see cref="Height"/>×<see cref="Width"/> (bilinear; antialiased when shrinking), e.g. 28×28 → 224×224 for ImageNet-style models.</summary>
public sealed class Resize : BatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="height">The output height, positive.</param>
    /// <param name="width">The output width, positive.</param>
    public Resize(int height, int width)
    {
        Height = TransformGuard.PositiveSize(height, nameof(height));
        Width = TransformGuard.PositiveSize(width, nameof(width));
    }

    /// <summary>The output height.</summary>
    public int Height { get; }

    /// <summary>The output width.</summary>
    public int Width { get; }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator) =>
        images.shape[2] == Height && images.shape[3] == Width
            ? (images, targets)
            : (TransformFunctional.Resize(images, Height, Width), targets);

    /// <inheritdoc />
    public override string Describe() => $"Resize(height={Height}, width={Width})";
}
