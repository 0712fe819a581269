using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// Silhouette coefficients (Rousseeuw 1987), a cluster-tightness score per sample, per class and overall, to compare how
/// well models separate the classes in their feature space: s(i) = (b − a) / max(a, b), where a is the mean Euclidean
/// distance from i to the other members of its class and b the smallest mean distance to another class. 1 = tight,
/// well-separated clusters; 0 = on a boundary; negative = closer to another class. Same values as scikit-learn's
/// <c>silhouette_samples</c> (a sample alone in its class scores 0).
/// </summary>
public static class Silhouette
{
    /// <summary>Computes the silhouette coefficients of <paramref name="points"/> grouped by <paramref name="labels"/>.</summary>
    /// <param name="points">float N×D (any device).</param>
    /// <param name="labels">int64 class labels N in [0, <paramref name="numClasses"/>).</param>
    /// <param name="numClasses">The class count K.</param>
    /// <param name="chunkSize">Rows of the distance matrix computed at once (memory ≈ chunkSize × N doubles).</param>
    /// <exception cref="ArgumentException">Shapes or labels are inconsistent.</exception>
    public static SilhouetteScores Compute(Tensor points, Tensor labels, int numClasses, int chunkSize = 1024)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        long n = AnalysisGuard.FloatRows(points, nameof(points));
        AnalysisGuard.Labels(labels, n, numClasses, nameof(labels));

        using var scope = NewDisposeScope();
        var x = points.detach().to_type(ScalarType.Float64);
        var y = labels.to(x.device);
        var oneHot = nn.functional.one_hot(y, numClasses).to_type(ScalarType.Float64);
        var counts = oneHot.sum([0]);   // sum(0) would bind to sum(ScalarType) and add up everything
        var squaredNorms = x.pow(2).sum(1);
        var scores = empty(n, ScalarType.Float64, device: x.device);
        for (long start = 0; start < n; start += chunkSize)
        {
            using var chunkScope = NewDisposeScope();
            long size = Math.Min(chunkSize, n - start);
            var rows = x.narrow(0, start, size);
            var distances = squaredNorms.narrow(0, start, size).unsqueeze(1).add(squaredNorms.unsqueeze(0))
                .sub(rows.matmul(x.t()).mul(2)).clamp_min(0).sqrt();
            var own = oneHot.narrow(0, start, size);
            var sums = distances.matmul(oneHot);                                  // size×K: summed distance to each class
            var ownCount = own.matmul(counts.unsqueeze(1)).squeeze(1);            // |C(i)|, self included
            var a = own.mul(sums).sum(1).div(ownCount.sub(1).clamp_min(1));      // self-distance is 0, so the sum needs no correction
            var meanToClass = sums.div(counts.clamp_min(1).unsqueeze(0));
            var b = meanToClass.masked_fill(own.gt(0).logical_or(counts.eq(0).unsqueeze(0)), double.PositiveInfinity).amin([1]);
            var s = b.sub(a).div(torch.maximum(a, b).clamp_min(1e-300));
            // Alone in its class, or no other class present: 0, as scikit-learn defines it.
            s = where(ownCount.le(1).logical_or(b.isinf()), zeros_like(s), s);
            scores.narrow(0, start, size).copy_(s);
        }
        var perSample = scores.cpu().to_type(ScalarType.Float32).data<float>().ToArray();
        var sumPerClass = zeros(numClasses, ScalarType.Float64, device: x.device).index_add_(0, y, scores, 1);
        var perClass = sumPerClass.div(counts.clamp_min(1)).cpu().data<double>().ToArray();
        var present = counts.gt(0).cpu().data<bool>().ToArray();
        for (int c = 0; c < numClasses; c++)
            if (!present[c])
                perClass[c] = double.NaN;
        return new SilhouetteScores(scores.mean().item<double>(), perClass, perSample);
    }
}

/// <summary>Silhouette coefficients of a labelled point set.</summary>
/// <param name="Mean">The mean over all samples (scikit-learn's <c>silhouette_score</c>).</param>
/// <param name="PerClass">The mean over each class's samples, in class order (NaN for a class without samples).</param>
/// <param name="PerSample">Every sample's coefficient, in input order.</param>
public sealed record SilhouetteScores(double Mean, IReadOnlyList<double> PerClass, IReadOnlyList<float> PerSample)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"silhouette {Mean:0.000} (per class {string.Join(", ", PerClass.Select(v => v.ToString("0.000", CultureInfo.InvariantCulture)))})");
}
