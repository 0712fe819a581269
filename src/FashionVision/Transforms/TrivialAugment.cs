using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// TrivialAugment (Müller and Hutter, 2021) restricted to operations that mean something for grayscale images: per selected
/// sample, one operation is drawn uniformly from <see cref="Operations"/> with a uniformly drawn magnitude bin and a random sign.
/// All geometric choices of the batch are applied with one resampling; the photometric ones are evaluated batch-wide and
/// selected per sample.
/// </summary>
/// <remarks>
/// Colour, hue and equalize are left out (meaningless or costly per sample on grayscale). Ranges are those of TrivialAugmentWide
/// except rotation (±<see cref="MaxRotation"/>°, default 30) and translation (±<see cref="MaxTranslate"/> of the size, default
/// 0.3), which Wide sets for 32×32 colour photos and which would erase most of a 28×28 garment or digit.
/// </remarks>
public sealed class TrivialAugment : RandomBatchTransform
{
    /// <summary>The operations, in the order their indices are drawn.</summary>
    public enum Operation
    {
        /// <summary>No change.</summary>
        Identity,

        /// <summary>Horizontal shear up to atan(0.99) ≈ 44.7°.</summary>
        ShearX,

        /// <summary>Vertical shear up to atan(0.99).</summary>
        ShearY,

        /// <summary>Horizontal shift.</summary>
        TranslateX,

        /// <summary>Vertical shift.</summary>
        TranslateY,

        /// <summary>Rotation.</summary>
        Rotate,

        /// <summary>Brightness factor in [0.01, 1.99].</summary>
        Brightness,

        /// <summary>Contrast factor in [0.01, 1.99].</summary>
        Contrast,

        /// <summary>Sharpness factor in [0.01, 1.99].</summary>
        Sharpness,

        /// <summary>Keep 2 to 8 bits.</summary>
        Posterize,

        /// <summary>Invert above a threshold in [0, 1].</summary>
        Solarize,

        /// <summary>Stretch to the full range.</summary>
        AutoContrast,
    }

    private static readonly Operation[] AllOperations = Enum.GetValues<Operation>();

    /// <summary>Creates the policy.</summary>
    /// <param name="magnitudeBins">The number of magnitude levels, ≥ 2 (31 in the paper).</param>
    /// <param name="maxRotation">The largest rotation in degrees, ≥ 0.</param>
    /// <param name="maxTranslate">The largest shift as a fraction of the size, in [0, 1].</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    public TrivialAugment(int magnitudeBins = 31, double maxRotation = 30, double maxTranslate = 0.3, double p = 1, double fill = 0)
        : base(p)
    {
        if (magnitudeBins < 2)
            throw new ArgumentOutOfRangeException(nameof(magnitudeBins), magnitudeBins, "At least two magnitude levels are needed.");
        MagnitudeBins = magnitudeBins;
        MaxRotation = TransformGuard.NonNegative(maxRotation, nameof(maxRotation));
        MaxTranslate = TransformGuard.NonNegative(maxTranslate, nameof(maxTranslate));
        if (MaxTranslate > 1)
            throw new ArgumentOutOfRangeException(nameof(maxTranslate), maxTranslate, "The translation fraction must lie in [0, 1].");
        Fill = TransformGuard.Finite(fill, nameof(fill));
    }

    /// <summary>The operations drawn from.</summary>
    public static IReadOnlyList<Operation> Operations => AllOperations;

    /// <summary>The number of magnitude levels.</summary>
    public int MagnitudeBins { get; }

    /// <summary>The largest rotation in degrees.</summary>
    public double MaxRotation { get; }

    /// <summary>The largest shift as a fraction of the size.</summary>
    public double MaxTranslate { get; }

    /// <summary>The value for areas that come from outside the image.</summary>
    public double Fill { get; }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        var u = rand(new[] { shape[0], 3 }, ScalarType.Float64, generator: generator);
        var op = (u[.., 0] * AllOperations.Length).floor_().clamp_max_(AllOperations.Length - 1);
        var magnitude = (u[.., 1] * MagnitudeBins).floor_().clamp_max_(MagnitudeBins - 1).div_(MagnitudeBins - 1);
        var sign = where(u[.., 2].lt(0.5), -1.0, 1.0);
        return scope.MoveToOuter(stack(new[] { op, magnitude, sign }, 1).to(ScalarType.Float32));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        long n = images.shape[0], h = images.shape[2], w = images.shape[3];
        var op = parameters![.., 0].to(ScalarType.Int64);
        var m = parameters[.., 1];
        var signed = m * parameters[.., 2];
        Tensor Is(Operation o) => op.eq((long)o).logical_and(applied);
        Tensor Where(Operation o, Tensor value) => where(Is(o), value, zeros_like(value));

        var degrees = 180 / Math.PI;
        var matrices = TransformFunctional.AffineMatrix(
            Where(Operation.Rotate, signed * MaxRotation),
            Where(Operation.TranslateX, signed * (MaxTranslate * w)),
            Where(Operation.TranslateY, signed * (MaxTranslate * h)),
            ones(n, device: images.device),
            Where(Operation.ShearX, (signed * 0.99).atan() * degrees),
            Where(Operation.ShearY, (signed * 0.99).atan() * degrees));
        var geometric = Is(Operation.Rotate).logical_or(Is(Operation.TranslateX)).logical_or(Is(Operation.TranslateY))
            .logical_or(Is(Operation.ShearX)).logical_or(Is(Operation.ShearY));
        var result = Select(geometric, TransformFunctional.AffineWarp(images, matrices, Fill), images);

        var factor = 1 + signed * 0.99;
        result = Select(Is(Operation.Brightness), TransformFunctional.AdjustBrightness(images, factor), result);
        result = Select(Is(Operation.Contrast), TransformFunctional.AdjustContrast(images, factor), result);
        result = Select(Is(Operation.Sharpness), TransformFunctional.AdjustSharpness(images, factor), result);
        result = Select(Is(Operation.Posterize), TransformFunctional.Posterize(images, (8 - m * 6).floor()), result);
        result = Select(Is(Operation.Solarize), TransformFunctional.Solarize(images, 1 - m), result);
        result = Select(Is(Operation.AutoContrast), TransformFunctional.AutoContrast(images), result);
        return (result, targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"TrivialAugment(magnitude_bins={MagnitudeBins}, max_rotation={TransformGuard.Format(MaxRotation)}, " +
        $"max_translate={TransformGuard.Format(MaxTranslate)}, p={TransformGuard.Format(P)})";
}
