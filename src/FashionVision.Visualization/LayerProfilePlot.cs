using System.Globalization;
using ScottPlot;

namespace FashionVision.Visualization;

/// <summary>
/// The plot behind <see cref="GradientFlowChart"/> and <see cref="DeadReluChart"/>: one value per layer (x, in forward order)
/// and one line per epoch, the layer names as rotated tick labels (thinned out for deep models).
/// </summary>
internal static class LayerProfilePlot
{
    private const int MaxLabels = 40;
    private const int MaxLines = 6;

    /// <summary>The epochs to draw: all of them up to <see cref="MaxLines"/>, else the first, the last and evenly spaced ones between.</summary>
    public static IReadOnlyList<int> EpochsToDraw(int count)
    {
        if (count <= MaxLines)
            return Enumerable.Range(0, count).ToArray();
        return Enumerable.Range(0, MaxLines).Select(i => (int)Math.Round(i * (count - 1) / (double)(MaxLines - 1))).Distinct().ToArray();
    }

    /// <summary>Builds the plot.</summary>
    /// <param name="title">The plot title.</param>
    /// <param name="yLabel">The y axis label.</param>
    /// <param name="layers">The layer names, x = 0 … L − 1.</param>
    /// <param name="series">One line per epoch: its legend text and L values.</param>
    /// <param name="logScale">Plot log10 of the values (they must be positive).</param>
    public static Plot Build(string title, string yLabel, IReadOnlyList<string> layers, IReadOnlyList<(string Label, double[] Values)> series, bool logScale)
    {
        var plot = ChartRendering.NewPlot();
        plot.Title(title);
        plot.YLabel(logScale ? yLabel + " (log scale)" : yLabel);
        var xs = Enumerable.Range(0, layers.Count).Select(i => (double)i).ToArray();
        for (var s = 0; s < series.Count; s++)
        {
            var ys = logScale ? series[s].Values.Select(Math.Log10).ToArray() : series[s].Values;
            var line = plot.Add.Scatter(xs, ys, s == series.Count - 1 ? ChartRendering.Palette[3] : ChartRendering.Palette[s % 3]);
            line.LegendText = series[s].Label;
            line.LineWidth = s == series.Count - 1 ? 2.5f : 1.5f;
            line.MarkerSize = layers.Count > 60 ? 0 : 4;
        }
        var step = Math.Max(1, (int)Math.Ceiling(layers.Count / (double)MaxLabels));
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var i = 0; i < layers.Count; i += step)
            ticks.AddMajor(i, layers[i]);
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.TickLabelStyle.Rotation = 60;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 160;
        if (logScale)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("0.#e0", CultureInfo.InvariantCulture),
            };
        }
        if (layers.Count == 1)
            plot.Axes.SetLimitsX(-0.5, 0.5);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
