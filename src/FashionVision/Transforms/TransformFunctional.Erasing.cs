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
    /// Encodes boxes (N×4 row-major: top, left, height, width) as row and column indicators N×(H+W) (1 inside the box's rows, then
    /// its columns): a compact, device-independent form that <see cref="MaskFromIndicators"/> turns into a mask with one broadcast.
    /// </summary>
    internal static float[] BoxIndicators(float[] boxes, long height, long width)
    {
        long n = boxes.Length / 4;
        var indicators = new float[n * (height + width)];
        for (long i = 0; i < n; i++)
        {
            long row = i * (height + width);
            long top = (long)boxes[i * 4], left = (long)boxes[i * 4 + 1], h = (long)boxes[i * 4 + 2], w = (long)boxes[i * 4 + 3];
            for (long y = top; y < Math.Min(height, top + h); y++)
                indicators[row + y] = 1;
            for (long x = left; x < Math.Min(width, left + w); x++)
                indicators[row + height + x] = 1;
        }
        return indicators;
    }

    /// <summary>The mask N×1×H×W of row/column indicators N×(H+W), restricted to the samples where <paramref name="applied"/> is true.</summary>
    internal static Tensor MaskFromIndicators(Tensor indicators, Tensor applied, long height, long width)
    {
        using var scope = NewDisposeScope();
        long n = indicators.shape[0];
        var rows = indicators[.., ..(int)height].gt(0).logical_and_(applied.view(n, 1)).view(n, 1, height, 1);
        var cols = indicators[.., (int)height..].gt(0).view(n, 1, 1, width);
        return scope.MoveToOuter(rows.logical_and(cols));
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
        // One draw for the whole batch; the per-sample arithmetic on these few scalars is done in C#.
        double[] u;
        using (var draws = rand(new[] { n, attempts, 4 }, ScalarType.Float64, generator: generator))
            u = draws.data<double>().ToArray();
        double area = (double)height * width, logMin = Math.Log(ratio.Min), logMax = Math.Log(ratio.Max);
        var boxes = new float[n * 4];
        var found = new bool[n];
        for (long i = 0; i < n; i++)
        {
            long row = i * attempts * 4;
            for (int attempt = 0; attempt < attempts; attempt++)
            {
                long k = row + attempt * 4;
                double targetArea = (scale.Min + u[k] * (scale.Max - scale.Min)) * area;
                double aspect = Math.Exp(logMin + u[k + 1] * (logMax - logMin));
                double h = Math.Round(Math.Sqrt(targetArea * aspect)), w = Math.Round(Math.Sqrt(targetArea / aspect));
                if (h < 1 || w < 1 || h > height || w > width)
                    continue;
                // The position comes from two spare uniforms of the first candidate, independent of the chosen size.
                boxes[i * 4] = (float)Math.Min(Math.Floor(u[row + 2] * (height - h + 1)), height - h);
                boxes[i * 4 + 1] = (float)Math.Min(Math.Floor(u[row + 3] * (width - w + 1)), width - w);
                boxes[i * 4 + 2] = (float)h;
                boxes[i * 4 + 3] = (float)w;
                found[i] = true;
                break;
            }
        }
        return (tensor(boxes, new[] { n, 4 }), tensor(found));
    }
}
