using System.Globalization;
using FashionVision.IO;
using ScottPlot;

namespace FashionVision.Visualization;

/// <summary>
/// A horizontal bar per class for a score in [0, 1] (F1 by default; precision or recall work the same), classes top to bottom
/// in class order, the value written at the end of each bar and the macro average as a dashed line.
/// </summary>
public static class PerClassF1Chart
{
    /// <summary>Renders the chart as PNG bytes.</summary>
    /// <param name="classNames">K class names in class-index order.</param>
    /// <param name="scores">K scores in [0, 1].</param>
    /// <param name="options">Size and title; null for 800×(120 + 36 per class) and the title "Per-class {metricName}".</param>
    /// <param name="metricName">What the scores are, for the title and axis label.</param>
    /// <exception cref="ArgumentException">Counts differ, the list is empty, or a score is outside [0, 1] or NaN.</exception>
    public static byte[] RenderPng(IReadOnlyList<string> classNames, IReadOnlyList<double> scores, ChartOptions? options = null, string metricName = "F1")
    {
        ArgumentNullException.ThrowIfNull(classNames);
        options ??= new ChartOptions(800, Math.Clamp(120 + 36 * classNames.Count, 300, 4000));
        options.Validate(nameof(options));
        using var plot = Build(classNames, scores, options.Title ?? $"Per-class {metricName}", metricName);
        return ChartRendering.RenderPng([plot], options.Width, options.Height, null);
    }

    /// <summary>Renders the chart and writes it to a PNG file atomically.</summary>
    /// <param name="classNames">K class names.</param>
    /// <param name="scores">K scores in [0, 1].</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults.</param>
    /// <param name="metricName">What the scores are.</param>
    public static void SavePng(IReadOnlyList<string> classNames, IReadOnlyList<double> scores, string path, ChartOptions? options = null, string metricName = "F1")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(classNames, scores, options, metricName));
    }

    /// <summary>Builds the plot; the bar of class i is centred on y = K − 1 − i and spans x from 0 to its score.</summary>
    internal static Plot Build(IReadOnlyList<string> classNames, IReadOnlyList<double> scores, string title, string metricName)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentException.ThrowIfNullOrWhiteSpace(metricName);
        if (classNames.Count == 0)
            throw new ArgumentException("There are no classes to plot.", nameof(classNames));
        if (scores.Count != classNames.Count)
            throw new ArgumentException($"Got {scores.Count} scores for {classNames.Count} classes.", nameof(scores));
        for (var i = 0; i < scores.Count; i++)
        {
            if (!(scores[i] is >= 0 and <= 1))
                throw new ArgumentException($"The score of class {i} ({classNames[i]}) is {scores[i]}, outside [0, 1].", nameof(scores));
        }

        var k = classNames.Count;
        var plot = ChartRendering.NewPlot();
        plot.Title(title);
        var bars = new List<Bar>(k);
        for (var i = 0; i < k; i++)
        {
            bars.Add(new Bar
            {
                Position = k - 1 - i,
                Value = scores[i],
                Size = 0.7,
                FillColor = ChartRendering.Palette[0],
                LineWidth = 0,
                Label = scores[i].ToString("0.000", CultureInfo.InvariantCulture),
                Orientation = Orientation.Horizontal,
            });
        }
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 13;

        var mean = scores.Average();
        var macro = plot.Add.VerticalLine(mean, 1.5f, ChartRendering.Palette[3], LinePattern.Dashed);
        macro.LegendText = $"macro average {mean.ToString("0.000", CultureInfo.InvariantCulture)}";
        plot.ShowLegend(Edge.Bottom);

        var positions = Enumerable.Range(0, k).Select(i => (double)(k - 1 - i)).ToArray();
        plot.Axes.Left.SetTicks(positions, classNames.ToArray());
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.XLabel(metricName);
        plot.Axes.SetLimits(0, 1.12, -0.6, k - 0.4);
        plot.Grid.YAxisStyle.IsVisible = false;
        return plot;
    }
}
