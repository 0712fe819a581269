using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Pads each side by <see cref="Padding"/> pixels, then cuts a crop of the output size at a random offset per sample (one gather
/// for the whole batch). Samples that are not selected get the centred crop, so every output has the same size.
/// </summary>
public sealed class RandomCrop : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="padding">Pixels added on each side, ≥ 0 (4 on a 28×28 image allows shifts of up to ±4 pixels).</param>
    /// <param name="size">The output height and width; null keeps the input size.</param>
    /// <param name="mode">How to pad.</param>
    /// <param name="fill">The padding value for <see cref="CropPadding.Constant"/>.</param>
    /// <param name="p">The per-sample probability of a random rather than centred crop, in [0, 1].</param>
    public RandomCrop(int padding, (int Height, int Width)? size = null, CropPadding mode = CropPadding.Constant,
        double fill = 0, double p = 1) : base(p)
    {
        if (padding < 0)
            throw new ArgumentOutOfRangeException(nameof(padding), padding, "The padding must be non-negative.");
        if (size is { } s && (s.Height <= 0 || s.Width <= 0))
            throw new ArgumentOutOfRangeException(nameof(size), size, "The crop size must be positive.");
        if (!Enum.IsDefined(mode))
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown padding mode.");
        Padding = padding;
        Size = size;
        Mode = mode;
        Fill = TransformGuard.Finite(fill, nameof(fill));
    }

    /// <summary>Pixels added on each side.</summary>
    public int Padding { get; }

    /// <summary>The output size, or null for the input size.</summary>
    public (int Height, int Width)? Size { get; }

    /// <summary>How the image is padded.</summary>
    public CropPadding Mode { get; }

    /// <summary>The constant padding value.</summary>
    public double Fill { get; }

    /// <inheritdoc />
    public override bool IsIdentity => Size is null && (Padding == 0 || P == 0);

    private (long Height, long Width) OutputSize(long[] shape) => Size is { } s ? (s.Height, s.Width) : (shape[2], shape[3]);

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator) => rand(new[] { shape[0], 2 }, generator: generator);

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var (h, w) = OutputSize(images.shape);
        long paddedH = images.shape[2] + 2 * Padding, paddedW = images.shape[3] + 2 * Padding;
        if (h > paddedH || w > paddedW)
            throw new ArgumentException(
                $"The crop {h}×{w} does not fit in the padded image {paddedH}×{paddedW}.", nameof(images));
        var padded = Padding == 0
            ? images
            : nn.functional.pad(images, new long[] { Padding, Padding, Padding, Padding }, Mode switch
            {
                CropPadding.Reflect => PaddingModes.Reflect,
                CropPadding.Replicate => PaddingModes.Replicate,
                _ => PaddingModes.Constant,
            }, Fill);
        var u = parameters!.to(ScalarType.Float64);
        var randomTop = (u[.., 0] * (paddedH - h + 1)).floor_().clamp_max_(paddedH - h).to(ScalarType.Int64);
        var randomLeft = (u[.., 1] * (paddedW - w + 1)).floor_().clamp_max_(paddedW - w).to(ScalarType.Int64);
        var top = where(applied, randomTop, full_like(randomTop, (paddedH - h) / 2));
        var left = where(applied, randomLeft, full_like(randomLeft, (paddedW - w) / 2));
        return (TransformFunctional.CropPerSample(padded, top, left, h, w), targets);
    }

    /// <inheritdoc />
    public override string Describe()
    {
        var size = Size is { } s ? $"size=({s.Height}, {s.Width}), " : "";
        var fill = Mode == CropPadding.Constant && Fill != 0 ? $", fill={TransformGuard.Format(Fill)}" : "";
        return $"RandomCrop({size}padding={Padding}, mode={Mode}{fill}, p={TransformGuard.Format(P)})";
    }
}
