using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// The base of CutMix and Mixup: each sample is mixed with its partner, the previous sample in the batch (<c>roll(1)</c>), and the
/// targets become soft N×K. Shuffle the data first (the loader does) so that partners are random.
/// </summary>
/// <remarks>Hard targets become one-hot before mixing; soft targets (from an earlier mixing op) are mixed as they are. Put mixing
/// ops last in a chain: ops that need class indices (<see cref="ClassConditional"/>) cannot follow them.</remarks>
public abstract class MixingTransform : RandomBatchTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="numClasses">The class count K, ≥ 2.</param>
    /// <param name="alpha">The Beta(α, α) concentration, &gt; 0.</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    protected MixingTransform(int numClasses, double alpha, double p) : base(p)
    {
        if (numClasses < 2)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "At least two classes are needed.");
        NumClasses = numClasses;
        Alpha = TransformGuard.Positive(alpha, nameof(alpha));
    }

    /// <summary>The class count K of the soft targets.</summary>
    public int NumClasses { get; }

    /// <summary>The Beta(α, α) concentration of the mixing weight.</summary>
    public double Alpha { get; }

    /// <summary>Checks that hard targets are valid class indices for <see cref="NumClasses"/> (one small reduction).</summary>
    protected void CheckTargets(Tensor targets)
    {
        if (targets.dim() == 2)
        {
            if (targets.shape[1] != NumClasses)
                throw new ArgumentException($"Soft targets have {targets.shape[1]} classes; this op was built for {NumClasses}.", nameof(targets));
            return;
        }
        if (targets.numel() == 0)
            return;
        long min = targets.min().item<long>(), max = targets.max().item<long>();
        if (min < 0 || max >= NumClasses)
            throw new ArgumentException($"Class indices must lie in [0, {NumClasses}); found {min}..{max}.", nameof(targets));
    }
}
