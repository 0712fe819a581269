using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

public static partial class TransformFunctional
{
    /// <summary>A per-sample rectangle mask built by broadcasting (no loop over samples or pixels).</summary>
    /// <param name="boxes">Boxes N×4 (top, left, height, width) in pixels; a box of height or width 0 is empty.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <returns>A boolean mask N×1×H×W, true inside each sample's box.</returns>
    public static Tensor BoxMask(Tensor boxes, long height, long width)
    {
        using var scope = NewDisposeScope();
        long n = boxes.shape[0];
        var b = boxes.to(ScalarType.Float32);
        var top = b[.., 0].view(n, 1, 1, 1);
        var left = b[.., 1].view(n, 1, 1, 1);
        var bottom = top + b[.., 2].view(n, 1, 1, 1);
        var right = left + b[.., 3].view(n, 1, 1, 1);
        var rows = arange(height, ScalarType.Float32, boxes.device).view(1, 1, height, 1);
        var cols = arange(width, ScalarType.Float32, boxes.device).view(1, 1, 1, width);
        var mask = rows.ge(top).logical_and_(rows.lt(bottom)).logical_and(cols.ge(left).logical_and_(cols.lt(right)));
        return scope.MoveToOuter(mask);
    }

    /// <summary>
    /// Draws one rectangle per sample with an area fraction in <paramref name="scale"/> and an aspect ratio (height / width) whose
    /// logarithm is uniform over log(<paramref name="ratio"/>), as in Zhong et al. (2017) and torchvision; ten candidates are drawn per
    /// sample at once and the first that fits is kept. Runs on the CPU.
    /// </summary>
    /// <param name="n">The number of samples.</param>
    /// <param name="height">The image height.</param>
    /// <param name="width">The image width.</param>
    /// <param name="scale">The range of the box area as a fraction of the image.</param>
    /// <param name="ratio">The range of the aspect ratio height / width.</param>
    /// <param name="generator">The CPU generator.</param>
    /// <returns>Boxes N×4 (top, left, height, width) as float32, and a boolean N telling which samples found a box that fits.</returns>
    public static (Tensor Boxes, Tensor Found) SampleBoxes(long n, long height, long width, (double Min, double Max) scale,
        (double Min, double Max) ratio, Generator generator)
    {
        const int attempts = 10;
        using var scope = NewDisposeScope();
        var u = rand(new[] { n, attempts, 4 }, ScalarType.Float64, generator: generator);
        double area = (double)height * width;
        var targetArea = (u[.., .., 0] * (scale.Max - scale.Min) + scale.Min) * area;
        double logMin = Math.Log(ratio.Min), logMax = Math.Log(ratio.Max);
        var aspect = (u[.., .., 1] * (logMax - logMin) + logMin).exp();
        var h = (targetArea * aspect).sqrt().round();
        var w = (targetArea / aspect).sqrt().round();
        var fits = h.ge(1).logical_and_(w.ge(1)).logical_and_(h.le(height)).logical_and_(w.le(width));
        var first = fits.to(ScalarType.Int32).argmax(1, keepdim: true);
        var found = fits.gather(1, first).squeeze(1);
        var bh = h.gather(1, first).squeeze(1);
        var bw = w.gather(1, first).squeeze(1);
        // The position comes from two spare uniforms of the first candidate, independent of the chosen size.
        var top = (u[.., 0, 2] * (height - bh + 1)).floor().clamp_min(0);
        var left = (u[.., 0, 3] * (width - bw + 1)).floor().clamp_min(0);
        var boxes = stack(new[] { top, left, bh, bw }, 1);
        boxes = where(found.view(n, 1), boxes, zeros_like(boxes)).to(ScalarType.Float32);
        return scope.MoveToOuter(boxes, found);
    }
}
