using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Cuts a random box per sample (area fraction in <see cref="Scale"/>, aspect ratio in <see cref="Ratio"/>) and resizes it to the
/// output size with bilinear sampling, one grid for the whole batch (Szegedy et al., 2015; torchvision's RandomResizedCrop).
/// Samples that are not selected, or for which no box fits after ten tries, are resized whole.
/// </summary>
public sealed class RandomResizedCrop : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="height">The output height.</param>
    /// <param name="width">The output width.</param>
    /// <param name="scale">The range of the box area as a fraction of the image, within (0, 1].</param>
    /// <param name="ratio">The range of the aspect ratio (width / height, as torchvision), positive.</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public RandomResizedCrop(int height, int width, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null,
        double p = 1) : base(p)
    {
        Height = TransformGuard.PositiveSize(height, nameof(height));
        Width = TransformGuard.PositiveSize(width, nameof(width));
        Scale = TransformGuard.Range(scale ?? (0.08, 1.0), nameof(scale), 0, 1, positive: true);
        Ratio = TransformGuard.Range(ratio ?? (3.0 / 4, 4.0 / 3), nameof(ratio), positive: true);
    }

    /// <summary>The output height.</summary>
    public int Height { get; }

    /// <summary>The output width.</summary>
    public int Width { get; }

    /// <summary>The range of the box area as a fraction of the image.</summary>
    public (double Min, double Max) Scale { get; }

    /// <summary>The range of the box aspect ratio, width / height.</summary>
    public (double Min, double Max) Ratio { get; }

    /// <inheritdoc />
    public override bool IsIdentity => false;

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        // SampleBoxes takes height / width ratios; this op's ratio is width / height.
        var (boxes, found) = TransformFunctional.SampleBoxes(shape[0], shape[2], shape[3], Scale, (1 / Ratio.Max, 1 / Ratio.Min), generator);
        var whole = tensor(new float[] { 0, 0, shape[2], shape[3] }).view(1, 4);
        return scope.MoveToOuter(where(found.view(-1, 1), boxes, whole));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        long h = images.shape[2], w = images.shape[3];
        var whole = tensor(new float[] { 0, 0, h, w }, device: images.device).view(1, 4);
        var boxes = where(applied.view(-1, 1), parameters!, whole).to(images.dtype);
        var theta = TransformFunctional.BoxTheta(boxes, h, w);
        var grid = TransformFunctional.AffineGrid(theta, Height, Width);
        var resized = TransformFunctional.Warp(images, grid);
        // Unselected samples of an unchanged size stay bit-identical rather than resampled in place.
        return (h == Height && w == Width ? Select(applied, resized, images) : resized, targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"RandomResizedCrop(size=({Height}, {Width}), scale={TransformGuard.Format(Scale)}, ratio={TransformGuard.Format(Ratio)}, p={TransformGuard.Format(P)})";
}
