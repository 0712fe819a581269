using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Focal loss (Lin et al. 2017), FL = −α·wₖ·(1 − pₖ)^γ·log pₖ for the target class k, averaged over the batch: it
/// down-weights easy, well-classified samples so training concentrates on the hard ones (Shirt vs T-shirt/top).
/// </summary>
/// <remarks>With γ = 0, α = 1 and no class weights it equals cross-entropy. Soft targets t give −Σₖ tₖ·α·wₖ·(1 − pₖ)^γ·log pₖ.</remarks>
public sealed class FocalLoss : ClassificationLoss
{
    private readonly float[]? _classWeights;

    /// <summary>Creates the loss.</summary>
    /// <param name="gamma">The focusing parameter γ ≥ 0 (2 in the paper).</param>
    /// <param name="alpha">A balancing factor α &gt; 0 applied to every sample (default 1).</param>
    /// <param name="classWeights">Optional per-class balancing weights (a per-class α).</param>
    public FocalLoss(double gamma = 2.0, double alpha = 1.0, float[]? classWeights = null)
    {
        if (!(gamma >= 0) || double.IsInfinity(gamma))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be finite and non-negative.");
        if (!(alpha > 0) || double.IsInfinity(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be finite and positive.");
        Gamma = gamma;
        Alpha = alpha;
        _classWeights = CheckClassWeights(classWeights, nameof(classWeights));
    }

    /// <summary>The focusing parameter γ.</summary>
    public double Gamma { get; }

    /// <summary>The balancing factor α.</summary>
    public double Alpha { get; }

    /// <inheritdoc />
    protected override Tensor Compute(Tensor logits, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var soft = ToSoft(logits, targets);
        var logp = nn.functional.log_softmax(logits, 1);
        var modulating = Gamma == 0 ? ones_like(logp) : logp.exp().neg().add(1).clamp_min(0).pow(Gamma);
        var perClass = soft.mul(modulating).mul(logp);
        if (WeightTensor(_classWeights, logits) is { } w)
            perClass = perClass.mul(w.unsqueeze(0));
        var loss = perClass.sum(1).neg().mean().mul(Alpha);
        return scope.MoveToOuter(loss);
    }

    /// <inheritdoc />
    public override string Describe() => $"Focal(gamma={Format(Gamma)}, alpha={Format(Alpha)}{(_classWeights is null ? "" : ", class_weights")})";
}
