using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// RandAugment (Cubuk et al., "RandAugment: Practical automated data augmentation with a reduced search space", NeurIPS 2020
/// workshops) over the grayscale operations of <see cref="AugmentOperation"/>: each selected sample gets
/// <see cref="Operations"/> operations in a row, each drawn uniformly (identity included), all at the one global magnitude
/// <see cref="Magnitude"/> of <see cref="MagnitudeBins"/> − 1 with a random sign.
/// </summary>
/// <remarks>
/// <para>The two numbers N (operations) and M (magnitude) are the whole search space; the paper's N = 2, M = 9 of 30 are the
/// defaults. Ranges are <see cref="AugmentationRanges.Standard"/> unless given.</para>
/// <para>Each round costs about one <see cref="TrivialAugment"/>: its geometric choices share one resampling and the
/// photometric operations run batch-wide and are selected per sample.</para>
/// </remarks>
public sealed class RandAugment : RandomBatchTransform
{
    /// <summary>Creates the policy.</summary>
    /// <param name="operations">N, the operations applied in a row to each selected sample, ≥ 1.</param>
    /// <param name="magnitude">M, the magnitude level in [0, <paramref name="magnitudeBins"/> − 1].</param>
    /// <param name="magnitudeBins">The number of magnitude levels, ≥ 2 (31 as in torchvision: M / 30).</param>
    /// <param name="p">The per-sample probability that the policy runs at all, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    /// <param name="ranges">How strong each operation is at the top level (null: <see cref="AugmentationRanges.Standard"/>).</param>
    public RandAugment(int operations = 2, int magnitude = 9, int magnitudeBins = 31, double p = 1, double fill = 0, AugmentationRanges? ranges = null)
        : base(p)
    {
        if (operations < 1)
            throw new ArgumentOutOfRangeException(nameof(operations), operations, "RandAugment applies at least one operation.");
        if (magnitudeBins < 2)
            throw new ArgumentOutOfRangeException(nameof(magnitudeBins), magnitudeBins, "At least two magnitude levels are needed.");
        if (magnitude < 0 || magnitude >= magnitudeBins)
            throw new ArgumentOutOfRangeException(nameof(magnitude), magnitude, $"The magnitude level must lie in [0, {magnitudeBins - 1}].");
        Operations = operations;
        Magnitude = magnitude;
        MagnitudeBins = magnitudeBins;
        Fill = TransformGuard.Finite(fill, nameof(fill));
        Ranges = (ranges ?? AugmentationRanges.Standard).Validate(nameof(ranges));
    }

    /// <summary>N, the operations applied in a row.</summary>
    public int Operations { get; }

    /// <summary>M, the magnitude level.</summary>
    public int Magnitude { get; }

    /// <summary>The number of magnitude levels (the strongest is <see cref="MagnitudeBins"/> − 1).</summary>
    public int MagnitudeBins { get; }

    /// <summary>The value for areas that come from outside the image.</summary>
    public double Fill { get; }

    /// <summary>How strong each operation is at the top level.</summary>
    public AugmentationRanges Ranges { get; }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        // Per sample and round: the operation index and the sign.
        using var scope = NewDisposeScope();
        int count = AugmentOperations.All.Length;
        var u = rand(new[] { shape[0], Operations, 2 }, ScalarType.Float64, generator: generator);
        var op = (u[.., .., 0] * count).floor_().clamp_max_(count - 1);
        return scope.MoveToOuter(stack(new[] { op, AugmentOperations.Signs(u[.., .., 1]) }, 2).to(ScalarType.Float32));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var magnitude = full(images.shape[0], (double)Magnitude / (MagnitudeBins - 1), ScalarType.Float32, images.device);
        var result = images;
        for (int round = 0; round < Operations; round++)
            result = AugmentOperations.Apply(result, parameters![.., round, 0].to(ScalarType.Int64), magnitude, parameters[.., round, 1], applied, Ranges, Fill);
        return (result, targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"RandAugment(operations={Operations}, magnitude={Magnitude}/{MagnitudeBins - 1}, p={TransformGuard.Format(P)})";
}
