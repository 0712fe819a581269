using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Picks one of several transforms per sample (uniformly, or by the given weights) and runs each on the samples that picked it.
/// </summary>
public sealed class RandomChoice : BatchTransform
{
    private readonly IBatchTransform[] _transforms;
    private readonly double[] _weights;

    /// <summary>Creates the transform with equal weights.</summary>
    /// <param name="transforms">The choices (at least one); each must keep the image size.</param>
    public RandomChoice(params IBatchTransform[] transforms) : this(transforms, null)
    {
    }

    /// <summary>Creates the transform.</summary>
    /// <param name="transforms">The choices (at least one); each must keep the image size.</param>
    /// <param name="weights">Relative weights, one per choice, non-negative with a positive sum; null for equal weights.</param>
    public RandomChoice(IReadOnlyList<IBatchTransform> transforms, IReadOnlyList<double>? weights)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        if (transforms.Count == 0)
            throw new ArgumentException("At least one transform is needed.", nameof(transforms));
        if (transforms.Any(t => t is null))
            throw new ArgumentException("The choices contain a null transform.", nameof(transforms));
        weights ??= Enumerable.Repeat(1.0, transforms.Count).ToArray();
        if (weights.Count != transforms.Count)
            throw new ArgumentException($"{weights.Count} weights were given for {transforms.Count} transforms.", nameof(weights));
        if (weights.Any(w => !double.IsFinite(w) || w < 0) || weights.Sum() <= 0)
            throw new ArgumentException("Weights must be finite, non-negative and not all zero.", nameof(weights));
        _transforms = transforms.ToArray();
        double total = weights.Sum();
        _weights = weights.Select(w => w / total).ToArray();
    }

    /// <summary>The choices.</summary>
    public IReadOnlyList<IBatchTransform> Transforms => _transforms;

    /// <summary>The normalized weights.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        long n = images.shape[0];
        var u = rand(n, ScalarType.Float64, generator: generator);
        var cumulative = tensor(_weights).cumsum(0);
        // Choice j is taken where the uniform falls in [cumulative[j-1], cumulative[j]).
        var choice = searchsorted(cumulative, u, right: true).clamp_max_(_transforms.Length - 1);
        var current = (images, targets);
        for (int j = 0; j < _transforms.Length; j++)
            current = SampleSubset.Apply(_transforms[j], current.images, current.targets, choice.eq(j), generator);
        return current;
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"RandomChoice({string.Join(", ", _transforms.Select(t => t.Describe()))}" +
        (_weights.Distinct().Count() > 1 ? $", weights=[{string.Join(", ", _weights.Select(w => TransformGuard.Format(Math.Round(w, 4))))}])" : ")");
}
