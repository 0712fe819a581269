using System.Globalization;
using FashionVision.IO;
using ScottPlot;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>
/// A 2-D map of embedded images (e.g. <see cref="FashionVision.Evaluation.Tsne"/> of penultimate features) as a scatter
/// plot coloured by class, with a legend that can carry a per-class score (e.g. the silhouette of each class).
/// </summary>
public static class EmbeddingScatter
{
    /// <summary>Renders the scatter plot as PNG bytes.</summary>
    /// <param name="points">float N×2 map coordinates (any device).</param>
    /// <param name="labels">int64 N class labels in [0, K).</param>
    /// <param name="classNames">K class names (at most 20: one colour each).</param>
    /// <param name="options">Size and title; null for 900×760 and "t-SNE of the penultimate features".</param>
    /// <param name="classScores">K numbers appended to the legend entries (e.g. per-class silhouette), or null.</param>
    /// <param name="scoreName">How the legend names <paramref name="classScores"/> (default "silhouette").</param>
    /// <exception cref="ArgumentException">Shapes, labels or score counts are inconsistent, or there are more than 20 classes.</exception>
    public static byte[] RenderPng(Tensor points, Tensor labels, IReadOnlyList<string> classNames, ChartOptions? options = null,
        IReadOnlyList<double>? classScores = null, string scoreName = "silhouette")
    {
        options ??= new ChartOptions(900, 760, "t-SNE of the penultimate features");
        options.Validate(nameof(options));
        using var plot = Build(points, labels, classNames, classScores, scoreName);
        return ChartRendering.RenderPng([plot], options.Width, options.Height, options.Title);
    }

    /// <summary>Renders the scatter plot and writes it to a PNG file atomically.</summary>
    /// <param name="points">float N×2 map coordinates.</param>
    /// <param name="labels">int64 N class labels.</param>
    /// <param name="classNames">K class names.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults.</param>
    /// <param name="classScores">K numbers for the legend, or null.</param>
    /// <param name="scoreName">How the legend names them.</param>
    public static void SavePng(Tensor points, Tensor labels, IReadOnlyList<string> classNames, string path, ChartOptions? options = null,
        IReadOnlyList<double>? classScores = null, string scoreName = "silhouette")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(points, labels, classNames, options, classScores, scoreName));
    }

    internal static Plot Build(Tensor points, Tensor labels, IReadOnlyList<string> classNames, IReadOnlyList<double>? classScores, string scoreName)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (points.dim() != 2 || points.shape[1] != 2 || points.shape[0] == 0)
            throw new ArgumentException($"Expected map points N×2, got shape [{string.Join(", ", points.shape)}].", nameof(points));
        if (labels.dim() != 1 || labels.shape[0] != points.shape[0])
            throw new ArgumentException($"Expected {points.shape[0]} labels, got shape [{string.Join(", ", labels.shape)}].", nameof(labels));
        int k = classNames.Count;
        if (k == 0 || k > 20)
            throw new ArgumentException($"The scatter colours 1 to 20 classes; got {k}.", nameof(classNames));
        if (classScores is not null && classScores.Count != k)
            throw new ArgumentException($"Got {classScores.Count} class scores for {k} classes.", nameof(classScores));

        double[] xy;
        long[] label;
        using (var scope = NewDisposeScope())
        {
            xy = points.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
            label = labels.cpu().to_type(ScalarType.Int64).data<long>().ToArray();
        }
        if (label.Any(l => l < 0 || l >= k))
            throw new ArgumentException($"Labels must lie in [0, {k}).", nameof(labels));
        if (xy.Any(v => !double.IsFinite(v)))
            throw new ArgumentException("The map has NaN or infinite coordinates.", nameof(points));

        var palette = k <= 10 ? ChartRendering.Palette : new ScottPlot.Palettes.Category20().Colors;
        var plot = ChartRendering.NewPlot();
        float markerSize = label.Length > 3000 ? 3 : label.Length > 1000 ? 4 : 6;
        for (int c = 0; c < k; c++)
        {
            var members = Enumerable.Range(0, label.Length).Where(i => label[i] == c).ToArray();
            if (members.Length == 0)
                continue;
            var scatter = plot.Add.ScatterPoints(members.Select(i => xy[2 * i]).ToArray(), members.Select(i => xy[2 * i + 1]).ToArray(), palette[c % palette.Length]);
            scatter.MarkerSize = markerSize;
            scatter.MarkerShape = MarkerShape.FilledCircle;
            scatter.LegendText = classScores is null
                ? classNames[c]
                : string.Create(CultureInfo.InvariantCulture, $"{classNames[c]} ({scoreName} {classScores[c]:0.00})");
        }
        plot.ShowLegend(Edge.Right);
        plot.Grid.IsVisible = false;
        plot.Axes.Bottom.TickLabelStyle.IsVisible = false;
        plot.Axes.Left.TickLabelStyle.IsVisible = false;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.MinorTickStyle.Length = 0;
        plot.Axes.Left.MinorTickStyle.Length = 0;
        return plot;
    }
}
