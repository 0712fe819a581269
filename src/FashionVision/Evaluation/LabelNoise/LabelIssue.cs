namespace FashionVision.Evaluation;

/// <summary>How <see cref="ConfidentLearning"/> decides which samples are label issues (cleanlab's <c>filter_by</c>).</summary>
public enum LabelIssueFilter
{
    /// <summary>
    /// The off-diagonal of the confident joint: the sample's probability of another class j reaches that class's threshold
    /// (the mean probability of j over the samples labelled j), and j is the most probable such class (Northcutt et al.
    /// 2021, "C_confusion" with per-class thresholds; cleanlab's <c>confident_learning</c>).
    /// </summary>
    ConfidentJoint,

    /// <summary>
    /// For every pair (given i, true j ≠ i), the n·Q[i, j] samples labelled i with the largest margin p_j − p_i, where Q is
    /// the calibrated joint distribution of given and true labels (cleanlab's default <c>prune_by_noise_rate</c>).
    /// </summary>
    PruneByNoiseRate,

    /// <summary>Samples flagged by both <see cref="ConfidentJoint"/> and <see cref="PruneByNoiseRate"/> (fewer, more precise).</summary>
    Both,

    /// <summary>Every sample whose most probable class is not its given label (the naive baseline).</summary>
    PredictedNotGiven,
}

/// <summary>A training sample whose given label the models doubt.</summary>
/// <param name="Index">The sample's position in the dataset.</param>
/// <param name="GivenLabel">The label the dataset gives it.</param>
/// <param name="SuggestedLabel">The class the out-of-fold probabilities point to (the confident class when there is one, otherwise the most probable).</param>
/// <param name="SelfConfidence">The out-of-fold probability of the given label (low = suspicious); the ranking key.</param>
/// <param name="SuggestedConfidence">The out-of-fold probability of <see cref="SuggestedLabel"/>.</param>
/// <param name="ModelsAgainst">How many of the k fold models (including those trained on this sample) predict another class than the given one, or null when not counted.</param>
public sealed record LabelIssue(long Index, int GivenLabel, int SuggestedLabel, double SelfConfidence, double SuggestedConfidence, int? ModelsAgainst)
{
    /// <summary>The out-of-fold cross-entropy of the given label, −ln p(given); the issue list is ranked by it, largest first.</summary>
    public double Loss => -Math.Log(Math.Max(SelfConfidence, 1e-12));
}
