using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// Confident learning (Northcutt, Jiang and Chuang 2021, "Confident Learning: Estimating Uncertainty in Dataset Labels"):
/// finds the samples whose given label disagrees with out-of-fold predicted probabilities, estimates the joint distribution
/// of given and true labels, and ranks the suspects by the probability of their given label. Works on any N×K probabilities,
/// so it also serves probabilities computed elsewhere; <see cref="LabelNoiseFinder"/> produces them by k-fold training.
/// </summary>
/// <remarks>
/// Steps, all tensor operations over the whole set: per-class thresholds t_j = mean of p_j over the samples labelled j;
/// a sample's confident class is its most probable class among those with p_j ≥ t_j; the confident joint C counts
/// (given, confident) pairs; C is calibrated so that each row sums to the class's size, Q = C / N; the chosen
/// <see cref="LabelIssueFilter"/> flags samples. The probabilities must come from models that did not train on the sample
/// (out-of-fold), otherwise a memorised wrong label looks confident.
/// </remarks>
public static class ConfidentLearning
{
    /// <summary>Finds label issues from out-of-fold probabilities.</summary>
    /// <param name="probabilities">N×K predicted probabilities (rows sum to 1), each from a model that did not see the sample.</param>
    /// <param name="givenLabels">int64 labels N, as the dataset gives them.</param>
    /// <param name="classNames">K class names.</param>
    /// <param name="filter">Which samples count as issues (default <see cref="LabelIssueFilter.PruneByNoiseRate"/>, cleanlab's default).</param>
    /// <param name="modelsAgainst">Optional int64 N: how many of <paramref name="models"/> models predict another class than the given one.</param>
    /// <param name="models">The number of models behind <paramref name="modelsAgainst"/>.</param>
    /// <returns>The report; issues ranked by the probability of the given label, lowest first.</returns>
    /// <exception cref="ArgumentException">Shapes, dtypes or label ranges are inconsistent, or the probabilities are not finite.</exception>
    public static LabelNoiseReport FindIssues(Tensor probabilities, Tensor givenLabels, IReadOnlyList<string> classNames,
        LabelIssueFilter filter = LabelIssueFilter.PruneByNoiseRate, Tensor? modelsAgainst = null, int? models = null)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(givenLabels);
        ArgumentNullException.ThrowIfNull(classNames);
        int k = classNames.Count;
        long n = AnalysisGuard.FloatRows(probabilities, nameof(probabilities), k);
        AnalysisGuard.Labels(givenLabels, n, k, nameof(givenLabels));
        if (modelsAgainst is not null && (modelsAgainst.dim() != 1 || modelsAgainst.shape[0] != n))
            throw new ArgumentException($"modelsAgainst must hold one count per sample ({n}).", nameof(modelsAgainst));
        if (modelsAgainst is not null && models is not > 0)
            throw new ArgumentException("With modelsAgainst, give the number of models (positive).", nameof(models));
        if (!Enum.IsDefined(filter))
            throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown label-issue filter.");

        using var scope = NewDisposeScope();
        var p = probabilities.detach().cpu().to_type(ScalarType.Float64);
        var y = givenLabels.cpu();
        AnalysisGuard.Finite(p, nameof(probabilities));

        // Per-class thresholds: the mean probability of class j over the samples labelled j (absent classes never match).
        var classCounts = y.bincount(null, k).to_type(ScalarType.Float64);
        var perGivenClass = zeros(new long[] { k, k }, ScalarType.Float64).index_add_(0, y, p, 1);
        var thresholds = where(classCounts.gt(0), perGivenClass.diagonal().div(classCounts.clamp_min(1)), full(k, double.PositiveInfinity, ScalarType.Float64));
        // cleanlab's tolerance, so that a class whose every sample has the same probability still counts its own samples.
        var above = p.ge(thresholds.sub(1e-6).unsqueeze(0));
        var confidentClass = where(above, p, full_like(p, -1.0)).argmax(1);
        var hasConfident = above.any(1);

        var pairs = y.mul(k).add(confidentClass).masked_select(hasConfident);
        var confidentJoint = pairs.bincount(null, (long)k * k).view(k, k);
        // Calibration: every row is rescaled to the size of its given class; the result counts N samples in all.
        var rowSums = confidentJoint.sum(1).to_type(ScalarType.Float64);
        var calibrated = where(rowSums.gt(0).unsqueeze(1),
            confidentJoint.to_type(ScalarType.Float64).div(rowSums.clamp_min(1).unsqueeze(1)).mul(classCounts.unsqueeze(1)),
            zeros(new long[] { k, k }, ScalarType.Float64));
        var total = calibrated.sum().item<double>();
        var joint = total > 0 ? calibrated.div(total) : calibrated;

        var predicted = p.argmax(1);
        var flagged = filter switch
        {
            LabelIssueFilter.PredictedNotGiven => predicted.ne(y),
            LabelIssueFilter.ConfidentJoint => ConfidentJointMask(hasConfident, confidentClass, y),
            LabelIssueFilter.PruneByNoiseRate => PruneByNoiseRateMask(p, y, joint.mul(n), k),
            _ => ConfidentJointMask(hasConfident, confidentClass, y).logical_and(PruneByNoiseRateMask(p, y, joint.mul(n), k)),
        };

        // The suggestion: the confident class when it is another class, otherwise the most probable other class.
        var others = p.scatter(1, y.unsqueeze(1), full(new long[] { n, 1 }, -1.0, ScalarType.Float64));
        var suggested = where(hasConfident.logical_and(confidentClass.ne(y)), confidentClass, others.argmax(1));
        var selfConfidence = p.gather(1, y.unsqueeze(1)).squeeze(1);

        var indices = flagged.nonzero().flatten();
        var order = selfConfidence.index_select(0, indices).sort(0, descending: false, stable: true).Indices;
        indices = indices.index_select(0, order);
        var idx = indices.data<long>().ToArray();
        var given = y.index_select(0, indices).data<long>().ToArray();
        var suggestion = suggested.index_select(0, indices).data<long>().ToArray();
        var own = selfConfidence.index_select(0, indices).data<double>().ToArray();
        var suggestionConfidence = p.index_select(0, indices).gather(1, suggested.index_select(0, indices).unsqueeze(1)).squeeze(1).data<double>().ToArray();
        var against = modelsAgainst?.cpu().to_type(ScalarType.Int64).index_select(0, indices).data<long>().ToArray();
        var issues = new LabelIssue[idx.Length];
        for (int i = 0; i < idx.Length; i++)
            issues[i] = new LabelIssue(idx[i], (int)given[i], (int)suggestion[i], own[i], suggestionConfidence[i], against is null ? null : (int)against[i]);

        return new LabelNoiseReport(classNames, filter, issues, ToMatrix(confidentJoint.data<long>().ToArray(), k),
            ToMatrix(joint.data<double>().ToArray(), k), thresholds.data<double>().ToArray(),
            selfConfidence.to_type(ScalarType.Float32).data<float>().ToArray(), modelsAgainst is null ? null : models);
    }

    private static Tensor ConfidentJointMask(Tensor hasConfident, Tensor confidentClass, Tensor labels) =>
        hasConfident.logical_and(confidentClass.ne(labels));

    /// <summary>For each pair (given i, true j ≠ i): the round(count[i, j]) samples labelled i with the largest p_j − p_i.</summary>
    private static Tensor PruneByNoiseRateMask(Tensor p, Tensor labels, Tensor counts, int k)
    {
        var mask = zeros(labels.shape[0], ScalarType.Bool);
        var pruneCounts = counts.round().to_type(ScalarType.Int64).data<long>().ToArray();
        for (int i = 0; i < k; i++)
        {
            var members = labels.eq(i).nonzero().flatten();
            long size = members.shape[0];
            if (size == 0)
                continue;
            var rows = p.index_select(0, members);
            var own = rows.select(1, i);
            for (int j = 0; j < k; j++)
            {
                long take = Math.Min(pruneCounts[i * k + j], size);
                if (j == i || take <= 0)
                    continue;
                var margin = rows.select(1, j).sub(own);
                var top = margin.topk((int)take).indexes;
                mask.index_fill_(0, members.index_select(0, top), true);
            }
        }
        return mask;
    }

    private static T[,] ToMatrix<T>(T[] flat, int k)
    {
        var matrix = new T[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                matrix[i, j] = flat[i * k + j];
        return matrix;
    }
}
