using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>Argument checks shared by the analysis tools (t-SNE, silhouette, confident learning); each names the offending parameter.</summary>
internal static class AnalysisGuard
{
    /// <summary>Checks a non-empty float N×D matrix (D = <paramref name="columns"/> when given) and returns N.</summary>
    public static long FloatRows(Tensor matrix, string paramName, long? columns = null)
    {
        ArgumentNullException.ThrowIfNull(matrix, paramName);
        if (matrix.dim() != 2 || !matrix.is_floating_point() || (columns is { } d && matrix.shape[1] != d))
            throw new ArgumentException($"Expected a float N×{(columns is { } c ? c.ToString(System.Globalization.CultureInfo.InvariantCulture) : "D")} tensor; got {matrix.dtype} [{string.Join(", ", matrix.shape)}].", paramName);
        if (matrix.shape[0] == 0)
            throw new ArgumentException("There are no rows to analyse.", paramName);
        return matrix.shape[0];
    }

    /// <summary>Checks int64 labels of length <paramref name="count"/>, each in [0, <paramref name="numClasses"/>).</summary>
    public static void Labels(Tensor labels, long count, int numClasses, string paramName)
    {
        ArgumentNullException.ThrowIfNull(labels, paramName);
        if (labels.dim() != 1 || labels.shape[0] != count || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Expected int64 labels of length {count}; got {labels.dtype} [{string.Join(", ", labels.shape)}].", paramName);
        using var min = labels.min();
        using var max = labels.max();
        if (min.item<long>() < 0 || max.item<long>() >= numClasses)
            throw new ArgumentException($"Labels must lie in [0, {numClasses}).", paramName);
    }

    /// <summary>Checks that every value is finite.</summary>
    public static void Finite(Tensor values, string paramName)
    {
        using var finite = values.isfinite().all();
        if (!finite.item<bool>())
            throw new ArgumentException("The values contain NaN or infinite numbers.", paramName);
    }
}
