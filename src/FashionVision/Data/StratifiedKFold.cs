using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// Stratified k-fold assignment: every sample gets a fold in [0, k) so that each fold holds about 1/k of every class,
/// reproducibly from a seed (scikit-learn's <c>StratifiedKFold(shuffle=True)</c>).
/// </summary>
/// <example>
/// <code>
/// using var folds = StratifiedKFold.Assign(dataset.Labels, dataset.NumClasses, folds: 4, seed: 0);
/// using var heldOut = folds.eq(0).nonzero().flatten();      // the indices of fold 0
/// </code>
/// </example>
public static class StratifiedKFold
{
    /// <summary>Assigns each sample to one of <paramref name="folds"/> folds.</summary>
    /// <param name="labels">int64 class labels N, each in [0, <paramref name="numClasses"/>), on any device.</param>
    /// <param name="numClasses">The class count.</param>
    /// <param name="folds">The number of folds k, at least 2.</param>
    /// <param name="seed">The seed of the shuffle inside each class.</param>
    /// <returns>int64 fold indices N on the CPU. Fold sizes differ by at most one per class, and by at most one overall
    /// (each class starts where the previous one stopped).</returns>
    /// <exception cref="ArgumentException">The labels are not a 1-D integer tensor, or fewer samples than folds.</exception>
    public static Tensor Assign(Tensor labels, int numClasses, int folds, long seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(folds, 2);
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Labels must be a 1-D int64 tensor; got {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        long n = labels.shape[0];
        if (n < folds)
            throw new ArgumentException($"{n} samples cannot be split into {folds} folds.", nameof(folds));

        using var scope = NewDisposeScope();
        using var generator = new torch.Generator((ulong)seed);
        var cpu = labels.cpu();
        var assignment = empty(n, ScalarType.Int64);
        long offset = 0;
        for (int c = 0; c < numClasses; c++)
        {
            var members = nonzero(cpu.eq(c)).flatten();
            long count = members.shape[0];
            if (count == 0)
                continue;
            var shuffled = members.index_select(0, randperm(count, generator: generator));
            assignment.index_copy_(0, shuffled, arange(offset, offset + count, dtype: ScalarType.Int64).remainder(folds));
            offset += count;
        }
        return scope.MoveToOuter(assignment);
    }
}
