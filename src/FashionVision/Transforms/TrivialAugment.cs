using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// TrivialAugment (Müller and Hutter, 2021) over the grayscale operations of <see cref="AugmentOperation"/>: per selected
/// sample, one operation is drawn uniformly with a uniformly drawn magnitude bin and a random sign.
/// All geometric choices of the batch are applied with one resampling; the photometric ones are evaluated batch-wide and
/// selected per sample.
/// </summary>
/// <remarks>
/// The ranges are TrivialAugmentWide's (<see cref="AugmentationRanges.Wide"/>) except rotation (±<see cref="MaxRotation"/>°,
/// default 30) and translation (±<see cref="MaxTranslate"/> of the size, default 0.3), which Wide sets for 32×32 colour photos
/// and which would erase most of a 28×28 garment or digit.
/// </remarks>
public sealed class TrivialAugment : RandomBatchTransform
{
    private readonly AugmentationRanges _ranges;

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
        _ranges = AugmentationRanges.Wide(MaxRotation, MaxTranslate).Validate(nameof(maxRotation));
    }

    /// <summary>The operations drawn from.</summary>
    public static IReadOnlyList<AugmentOperation> Operations => AugmentOperations.All;

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
        int operations = AugmentOperations.All.Length;
        var u = rand(new[] { shape[0], 3 }, ScalarType.Float64, generator: generator);
        var op = (u[.., 0] * operations).floor_().clamp_max_(operations - 1);
        var magnitude = (u[.., 1] * MagnitudeBins).floor_().clamp_max_(MagnitudeBins - 1).div_(MagnitudeBins - 1);
        return scope.MoveToOuter(stack(new[] { op, magnitude, AugmentOperations.Signs(u[.., 2]) }, 1).to(ScalarType.Float32));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters) =>
        (AugmentOperations.Apply(images, parameters![.., 0].to(ScalarType.Int64), parameters[.., 1], parameters[.., 2], applied, _ranges, Fill), targets);

    /// <inheritdoc />
    public override string Describe() =>
        $"TrivialAugment(magnitude_bins={MagnitudeBins}, max_rotation={TransformGuard.Format(MaxRotation)}, " +
        $"max_translate={TransformGuard.Format(MaxTranslate)}, p={TransformGuard.Format(P)})";
}
