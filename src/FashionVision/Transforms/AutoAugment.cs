using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// An AutoAugment-style policy (Cubuk et al., "AutoAugment: Learning Augmentation Strategies from Data", CVPR 2019): a list of
/// sub-policies, each a short sequence of <see cref="AutoAugmentStep"/>s (operation, probability, magnitude level). Every
/// selected sample draws one sub-policy uniformly and runs its steps in order, each with its own probability and a random
/// sign for the signed operations.
/// </summary>
/// <remarks>
/// <para>The default policy is <see cref="GrayscaleCifar10Policy"/>: the 25 sub-policies the paper learned on CIFAR-10
/// (Appendix, Table 8) with the steps that have no grayscale meaning taken out (Color, which is the identity on grayscale,
/// and Invert and Equalize, which are not among <see cref="AugmentOperation"/>); the four sub-policies left without a step
/// are dropped, leaving 21. Magnitude levels run from 0 to 9 as in the paper, over <see cref="AugmentationRanges.Standard"/>.</para>
/// <para>The draws are per sample and the work per step is one <see cref="TrivialAugment"/>-like pass over the batch.</para>
/// </remarks>
public sealed class AutoAugment : RandomBatchTransform
{
    private readonly AutoAugmentStep[][] _policy;
    private readonly int _steps;
    private readonly long[] _operations;
    private readonly float[] _probabilities;
    private readonly float[] _magnitudes;

    /// <summary>Creates the policy.</summary>
    /// <param name="policy">The sub-policies (null: <see cref="GrayscaleCifar10Policy"/>); each needs at least one step.</param>
    /// <param name="magnitudeBins">The number of magnitude levels, ≥ 2 (10 in the paper: levels 0–9).</param>
    /// <param name="p">The per-sample probability that the policy runs at all, in [0, 1].</param>
    /// <param name="fill">The value for areas that come from outside the image.</param>
    /// <param name="ranges">How strong each operation is at the top level (null: <see cref="AugmentationRanges.Standard"/>).</param>
    public AutoAugment(IReadOnlyList<IReadOnlyList<AutoAugmentStep>>? policy = null, int magnitudeBins = 10, double p = 1, double fill = 0,
        AugmentationRanges? ranges = null) : base(p)
    {
        if (magnitudeBins < 2)
            throw new ArgumentOutOfRangeException(nameof(magnitudeBins), magnitudeBins, "At least two magnitude levels are needed.");
        policy ??= GrayscaleCifar10Policy;
        if (policy.Count == 0 || policy.Any(s => s is null || s.Count == 0 || s.Any(step => step is null)))
            throw new ArgumentException("A policy needs at least one sub-policy, and every sub-policy at least one step.", nameof(policy));
        foreach (var step in policy.SelectMany(s => s))
        {
            if (!Enum.IsDefined(step.Operation))
                throw new ArgumentException($"Unknown operation {step.Operation} in the policy.", nameof(policy));
            if (!(step.Probability >= 0 && step.Probability <= 1))
                throw new ArgumentException($"Step {step}: the probability must lie in [0, 1].", nameof(policy));
            if (step.Magnitude < 0 || step.Magnitude >= magnitudeBins)
                throw new ArgumentException($"Step {step}: the magnitude level must lie in [0, {magnitudeBins - 1}].", nameof(policy));
        }
        _policy = policy.Select(s => s.ToArray()).ToArray();
        MagnitudeBins = magnitudeBins;
        Fill = TransformGuard.Finite(fill, nameof(fill));
        Ranges = (ranges ?? AugmentationRanges.Standard).Validate(nameof(ranges));

        // The policy as three S×L tables (padded with identity steps of probability 0), gathered per sample at run time.
        _steps = _policy.Max(s => s.Length);
        var padded = _policy.SelectMany(s => s.Concat(Enumerable.Repeat(new AutoAugmentStep(AugmentOperation.Identity, 0), _steps - s.Length))).ToArray();
        _operations = padded.Select(s => (long)s.Operation).ToArray();
        _probabilities = padded.Select(s => (float)s.Probability).ToArray();
        _magnitudes = padded.Select(s => (float)s.Magnitude / (magnitudeBins - 1)).ToArray();
    }

    /// <summary>
    /// AutoAugment's CIFAR-10 policy (Cubuk et al. 2019, Table 8) reduced to the grayscale operations: 21 sub-policies of one
    /// or two steps, magnitudes 0–9.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<AutoAugmentStep>> GrayscaleCifar10Policy { get; } = BuildGrayscaleCifar10Policy();

    /// <summary>The sub-policies.</summary>
    public IReadOnlyList<IReadOnlyList<AutoAugmentStep>> Policy => _policy;

    /// <summary>The number of magnitude levels.</summary>
    public int MagnitudeBins { get; }

    /// <summary>The value for areas that come from outside the image.</summary>
    public double Fill { get; }

    /// <summary>How strong each operation is at the top level.</summary>
    public AugmentationRanges Ranges { get; }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        // Per sample: the sub-policy, then per step a uniform for its probability and one for its sign.
        using var scope = NewDisposeScope();
        var u = rand(new[] { shape[0], 1 + 2 * _steps }, ScalarType.Float64, generator: generator);
        var choice = (u[.., 0] * _policy.Length).floor_().clamp_max_(_policy.Length - 1);
        var signs = AugmentOperations.Signs(u[.., (1 + _steps)..]);
        return scope.MoveToOuter(cat(new[] { choice.unsqueeze(1), u[.., 1..(1 + _steps)], signs }, 1).to(ScalarType.Float32));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        var device = images.device;
        var choice = parameters![.., 0].to(ScalarType.Int64);
        var operations = tensor(_operations, new long[] { _policy.Length, _steps }, device: device).index_select(0, choice);
        var probabilities = tensor(_probabilities, new long[] { _policy.Length, _steps }, device: device).index_select(0, choice);
        var magnitudes = tensor(_magnitudes, new long[] { _policy.Length, _steps }, device: device).index_select(0, choice);
        var result = images;
        for (int step = 0; step < _steps; step++)
        {
            var runs = applied.logical_and(parameters[.., 1 + step].lt(probabilities[.., step]));
            result = AugmentOperations.Apply(result, operations[.., step], magnitudes[.., step], parameters[.., 1 + _steps + step], runs, Ranges, Fill);
        }
        return (result, targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"AutoAugment(sub_policies={_policy.Length}, magnitude_bins={MagnitudeBins}, p={TransformGuard.Format(P)})";

    private static IReadOnlyList<IReadOnlyList<AutoAugmentStep>> BuildGrayscaleCifar10Policy()
    {
        // (operation, probability, level) pairs of the CIFAR-10 sub-policies; null marks a step without a grayscale meaning
        // (Invert, Equalize, Color), which is left out.
        static AutoAugmentStep S(AugmentOperation o, double p, int m = 0) => new(o, p, m);
        const AutoAugmentStep? Dropped = null;
        var table = new (AutoAugmentStep? First, AutoAugmentStep? Second)[]
        {
            (Dropped, S(AugmentOperation.Contrast, 0.2, 6)),                                 // Invert 0.1
            (S(AugmentOperation.Rotate, 0.7, 2), S(AugmentOperation.TranslateX, 0.3, 9)),
            (S(AugmentOperation.Sharpness, 0.8, 1), S(AugmentOperation.Sharpness, 0.9, 3)),
            (S(AugmentOperation.ShearY, 0.5, 8), S(AugmentOperation.TranslateY, 0.7, 9)),
            (S(AugmentOperation.AutoContrast, 0.5), Dropped),                                // Equalize 0.9
            (S(AugmentOperation.ShearY, 0.2, 7), S(AugmentOperation.Posterize, 0.3, 7)),
            (Dropped, S(AugmentOperation.Brightness, 0.6, 7)),                               // Color 0.4
            (S(AugmentOperation.Sharpness, 0.3, 9), S(AugmentOperation.Brightness, 0.7, 9)),
            (Dropped, Dropped),                                                              // Equalize 0.6, Equalize 0.5
            (S(AugmentOperation.Contrast, 0.6, 7), S(AugmentOperation.Sharpness, 0.6, 5)),
            (Dropped, S(AugmentOperation.TranslateX, 0.5, 8)),                               // Color 0.7
            (Dropped, S(AugmentOperation.AutoContrast, 0.4)),                                // Equalize 0.3
            (S(AugmentOperation.TranslateY, 0.4, 3), S(AugmentOperation.Sharpness, 0.2, 6)),
            (S(AugmentOperation.Brightness, 0.9, 6), Dropped),                               // Color 0.2
            (S(AugmentOperation.Solarize, 0.5, 2), Dropped),                                 // Invert 0.0
            (Dropped, S(AugmentOperation.AutoContrast, 0.6)),                                // Equalize 0.2
            (Dropped, Dropped),                                                              // Equalize 0.2, Equalize 0.6
            (Dropped, Dropped),                                                              // Color 0.9, Equalize 0.6
            (S(AugmentOperation.AutoContrast, 0.8), S(AugmentOperation.Solarize, 0.2, 8)),
            (S(AugmentOperation.Brightness, 0.1, 3), Dropped),                               // Color 0.7
            (S(AugmentOperation.Solarize, 0.4, 5), S(AugmentOperation.AutoContrast, 0.9)),
            (S(AugmentOperation.TranslateY, 0.9, 9), S(AugmentOperation.TranslateY, 0.7, 9)),
            (S(AugmentOperation.AutoContrast, 0.9), S(AugmentOperation.Solarize, 0.8, 3)),
            (Dropped, Dropped),                                                              // Equalize 0.8, Invert 0.1
            (S(AugmentOperation.TranslateY, 0.7, 9), S(AugmentOperation.AutoContrast, 0.9)),
        };
        return table
            .Select(pair => new[] { pair.First, pair.Second }.OfType<AutoAugmentStep>().ToArray())
            .Where(steps => steps.Length > 0)
            .ToArray();
    }
}
