using System.Globalization;

namespace FashionVision.Evaluation;

/// <summary>
/// What <see cref="ConfidentLearning"/> found: the ranked label issues, the confident joint of given and (estimated) true
/// labels, the per-class thresholds, the estimated noise rate, and every sample's out-of-fold loss for a full ranking.
/// </summary>
public sealed class LabelNoiseReport
{
    private readonly long[,] _confidentJoint;
    private readonly double[,] _joint;
    private readonly float[] _selfConfidence;

    internal LabelNoiseReport(IReadOnlyList<string> classNames, LabelIssueFilter filter, IReadOnlyList<LabelIssue> issues, long[,] confidentJoint,
        double[,] joint, double[] thresholds, float[] selfConfidence, int? models)
    {
        ClassNames = classNames.ToArray();
        Filter = filter;
        Issues = issues;
        _confidentJoint = confidentJoint;
        _joint = joint;
        Thresholds = thresholds;
        _selfConfidence = selfConfidence;
        Models = models;
        double diagonal = 0;
        for (int i = 0; i < ClassNames.Count; i++)
            diagonal += joint[i, i];
        EstimatedNoiseRate = Math.Clamp(1 - diagonal, 0, 1);
    }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The filter that chose <see cref="Issues"/>.</summary>
    public LabelIssueFilter Filter { get; }

    /// <summary>The samples flagged as label issues, most suspicious (lowest probability of the given label) first.</summary>
    public IReadOnlyList<LabelIssue> Issues { get; }

    /// <summary>The number of samples analysed.</summary>
    public long SampleCount => _selfConfidence.Length;

    /// <summary>The number of models behind <see cref="LabelIssue.ModelsAgainst"/>, or null when votes were not counted.</summary>
    public int? Models { get; }

    /// <summary>Per-class thresholds t_j: the mean out-of-fold probability of class j over the samples labelled j.</summary>
    public IReadOnlyList<double> Thresholds { get; }

    /// <summary>The estimated fraction of wrong labels, 1 − trace(Q) of the calibrated joint <see cref="JointDistribution"/>.</summary>
    public double EstimatedNoiseRate { get; }

    /// <summary>A copy of the confident joint C: [given label, confident true label] counts, before calibration.</summary>
    public long[,] ConfidentJoint => (long[,])_confidentJoint.Clone();

    /// <summary>A copy of Q, the calibrated joint distribution of [given label, true label] (sums to 1).</summary>
    public double[,] JointDistribution => (double[,])_joint.Clone();

    /// <summary>Every sample's out-of-fold probability of its given label, in dataset order.</summary>
    public IReadOnlyList<float> SelfConfidence => _selfConfidence;

    /// <summary>The indices of all samples ordered by out-of-fold loss, largest first (the per-sample loss ranking).</summary>
    /// <param name="count">How many to return (default all).</param>
    public IReadOnlyList<long> RankByLoss(int? count = null)
    {
        int take = Math.Clamp(count ?? _selfConfidence.Length, 0, _selfConfidence.Length);
        return Enumerable.Range(0, _selfConfidence.Length).OrderBy(i => _selfConfidence[i]).ThenBy(i => i).Take(take).Select(i => (long)i).ToArray();
    }

    /// <summary>Flagged samples per given class, in class order.</summary>
    public long[] IssuesPerClass()
    {
        var counts = new long[ClassNames.Count];
        foreach (var issue in Issues)
            counts[issue.GivenLabel]++;
        return counts;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Issues.Count} label issues in {SampleCount} samples ({Filter}); estimated noise rate {EstimatedNoiseRate:P2}");
}
