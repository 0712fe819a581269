using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Cross-entropy with optional class weights and label smoothing, for hard (N) or soft (N×K) targets.
/// </summary>
/// <remarks>
/// <para>Hard targets follow PyTorch's <c>F.cross_entropy</c> exactly: with weights the mean is Σ wᵢ·lᵢ / Σ wᵢ.</para>
/// <para>Soft targets t are smoothed to t·(1−ε) + ε/K, then loss = −Σₖ wₖ tₖ log pₖ, averaged over the batch (PyTorch's
/// rule for probability targets).</para>
/// </remarks>
public sealed class CrossEntropyLoss : ClassificationLoss
{
    private readonly float[]? _classWeights;

    /// <summary>Creates the loss.</summary>
    /// <param name="labelSmoothing">ε in [0, 1): the share of probability spread uniformly over all classes.</param>
    /// <param name="classWeights">Optional per-class weights (e.g. inverse frequency).</param>
    public CrossEntropyLoss(double labelSmoothing = 0, float[]? classWeights = null)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1).");
        LabelSmoothing = labelSmoothing;
        _classWeights = CheckClassWeights(classWeights, nameof(classWeights));
    }

    /// <summary>The label smoothing ε.</summary>
    public double LabelSmoothing { get; }

    /// <summary>The per-class weights, or null.</summary>
    public IReadOnlyList<float>? ClassWeights => _classWeights;

    /// <inheritdoc />
    protected override Tensor Compute(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var weight = WeightTensor(_classWeights, logits);
        if (!IsSoft(targets))
            return scope.MoveToOuter(nn.functional.cross_entropy(logits, targets, weight, label_smoothing: LabelSmoothing));

        long k = logits.shape[1];
        var soft = targets.to_type(logits.dtype);
        if (LabelSmoothing > 0)
            soft = soft.mul(1 - LabelSmoothing).add(LabelSmoothing / k);
        var logp = nn.functional.log_softmax(logits, 1);
        var perClass = soft.mul(logp);
        if (weight is not null)
            perClass = perClass.mul(weight.unsqueeze(0));
        return scope.MoveToOuter(perClass.sum(1).neg().mean());
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"CrossEntropy(label_smoothing={Format(LabelSmoothing)}{(_classWeights is null ? "" : ", class_weights=[" + string.Join(", ", _classWeights.Select(w => Format(w))) + "]")})";
}
