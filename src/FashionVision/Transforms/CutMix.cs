using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// CutMix (Yun et al., 2019): per selected sample, a box from its partner (the previous sample in the batch) is pasted in; the box
/// area follows 1 − λ with λ ~ Beta(α, α) drawn per sample; the targets become <c>λ'·y + (1 − λ')·y_partner</c> where λ' is the
/// exact unpasted fraction after clipping the box to the image.
/// </summary>
public sealed class CutMix : MixingTransform
{
    /// <summary>Creates the transform.</summary>
    /// <param name="numClasses">The class count K, ≥ 2.</param>
    /// <param name="alpha">The Beta(α, α) concentration, &gt; 0 (1 makes λ uniform).</param>
    /// <param name="p">The per-sample probability, in [0, 1].</param>
    public CutMix(int numClasses, double alpha = 1.0, double p = 0.5) : base(numClasses, alpha, p)
    {
    }

    /// <inheritdoc />
    protected override Tensor? DrawParameters(long[] shape, Generator generator)
    {
        using var scope = NewDisposeScope();
        var lambda = TransformFunctional.SampleBeta(shape[0], Alpha, generator);
        var centre = rand(new[] { shape[0], 2 }, generator: generator);
        return scope.MoveToOuter(cat(new[] { lambda.view(-1, 1), centre }, 1));
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        CheckTargets(targets);
        long h = images.shape[2], w = images.shape[3];
        var boxes = TransformFunctional.CutMixBoxes(parameters![.., 0], parameters[.., 1], parameters[.., 2], h, w);
        boxes = where(applied.view(-1, 1), boxes, zeros_like(boxes));
        var mask = TransformFunctional.BoxMask(boxes, h, w);
        var mixed = where(mask, images.roll(1, 0), images);
        var kept = 1 - boxes[.., 2] * boxes[.., 3] / (h * w);
        return (mixed, TransformFunctional.MixTargets(targets, kept.to(images.dtype), NumClasses));
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"CutMix(num_classes={NumClasses}, alpha={TransformGuard.Format(Alpha)}, p={TransformGuard.Format(P)})";
}
