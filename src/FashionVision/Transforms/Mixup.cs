using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Mixup (Zhang et al., 2018): each selected sample becomes <c>λ·x + (1 − λ)·x_partner</c> with λ ~ Beta(α, α) drawn per sample,
/// and its targets <c>λ·y + (1 − λ)·y_partner</c>; the partner is the previous sample in the batch.
/// </summary>
public sealed class Mixup : MixingTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="numClasses">The class count K, ≥ 2.</param>
    /// <param name="alpha">The Beta(α, α) concentration, &gt; 0 (0.2–0.4 is usual; 1 makes λ uniform).</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public Mixup(int numClasses, double alpha = 0.2, double p = 0.5) : base(numClasses, alpha, p)
    {
    }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator) =>
        TransformFunctional.SampleBeta(shape[0], Alpha, generator);

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        CheckTargets(targets);
        var lambda = where(applied, parameters!, ones_like(parameters!)).to(images.dtype);
        return (Select(applied, TransformFunctional.MixImages(images, lambda), images), TransformFunctional.MixTargets(targets, lambda, NumClasses));
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"Mixup(num_classes={NumClasses}, alpha={TransformGuard.Format(Alpha)}, p={TransformGuard.Format(P)})";
}
