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
        long n = shape[0], h = shape[2], w = shape[3];
        float[] lambda, centre;
        using (var drawn = TransformFunctional.SampleBeta(n, Alpha, generator))
            lambda = drawn.data<float>().ToArray();
        using (var drawn = rand(new[] { n, 2 }, generator: generator))
            centre = drawn.data<float>().ToArray();
        // The boxes of TransformFunctional.CutMixBoxes, computed on the few scalars in C#; they travel as row/column indicators
        // followed by the kept (unpasted) fraction: N × (H + W + 1).
        var boxes = new float[n * 4];
        var parameters = new float[n * (h + w + 1)];
        for (long i = 0; i < n; i++)
        {
            double cut = Math.Sqrt(Math.Clamp(1 - lambda[i], 0, 1));
            double halfH = Math.Floor(cut * h) / 2, halfW = Math.Floor(cut * w) / 2;
            double cy = Math.Floor(centre[i * 2] * h), cx = Math.Floor(centre[i * 2 + 1] * w);
            double top = Math.Clamp(Math.Floor(cy - halfH), 0, h), bottom = Math.Clamp(Math.Floor(cy + halfH), 0, h);
            double left = Math.Clamp(Math.Floor(cx - halfW), 0, w), right = Math.Clamp(Math.Floor(cx + halfW), 0, w);
            boxes[i * 4] = (float)top;
            boxes[i * 4 + 1] = (float)left;
            boxes[i * 4 + 2] = (float)(bottom - top);
            boxes[i * 4 + 3] = (float)(right - left);
            parameters[i * (h + w + 1) + h + w] = (float)(1 - (bottom - top) * (right - left) / (h * w));
        }
        var indicators = TransformFunctional.BoxIndicators(boxes, h, w);
        for (long i = 0; i < n; i++)
            Array.Copy(indicators, i * (h + w), parameters, i * (h + w + 1), h + w);
        return tensor(parameters, new[] { n, h + w + 1 });
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) Transform(Tensor images, Tensor targets, Tensor applied, Tensor? parameters)
    {
        CheckTargets(targets);
        long h = images.shape[2], w = images.shape[3];
        int split = (int)(h + w);
        var mask = TransformFunctional.MaskFromIndicators(parameters![.., ..split], applied, h, w);
        var mixed = where(mask, images.roll(1, 0), images);
        var kept = where(applied, parameters[.., split], ones_like(parameters[.., split])).to(images.dtype);
        return (mixed, TransformFunctional.MixTargets(targets, kept, NumClasses));
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"CutMix(num_classes={NumClasses}, alpha={TransformGuard.Format(Alpha)}, p={TransformGuard.Format(P)})";
}
