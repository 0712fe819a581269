using System.Globalization;
using FashionVision.IO;
using FashionVision.Training;
using ScottPlot;

namespace FashionVision.Visualization;

/// <summary>
/// Draws an <see cref="AblationResult"/>: one horizontal bar per cumulative step, top to bottom in plan order, for the mean
/// test accuracy (with the seeds' standard deviation as an error bar and the change from the previous step written beside
/// it) and, in a second panel, the mean training time.
/// </summary>
public static class AblationChart
{
    /// <summary>Renders the two panels as PNG bytes.</summary>
    /// <param name="result">The ablation's result.</param>
    /// <param name="options">Size and title; null for 1400×(160 + 60 per step) and the ablation's name.</param>
    public static byte[] RenderPng(AblationResult result, ChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        options ??= new ChartOptions(1400, Math.Clamp(160 + 60 * result.Rows.Count, 300, 4000), result.Name);
        options.Validate(nameof(options));
        using var accuracy = BuildAccuracy(result);
        using var time = BuildTime(result);
        return ChartRendering.RenderPng([accuracy, time], options.Width, options.Height, options.Title);
    }

    /// <summary>Renders the chart and writes it to a PNG file atomically.</summary>
    /// <param name="result">The ablation's result.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults.</param>
    public static void SavePng(AblationResult result, string path, ChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(result, options));
    }

    /// <summary>The accuracy panel; the bar of row i is centred on y = rows − 1 − i, its value in percent.</summary>
    internal static Plot BuildAccuracy(AblationResult result)
    {
        var rows = result.Rows;
        var plot = NewPanel(rows, "Test accuracy (%)", $"mean{(result.Seeds.Count > 1 ? $" ± sd over {result.Seeds.Count} seeds" : "")}");
        var bars = rows.Select((row, i) => new Bar
        {
            Position = rows.Count - 1 - i,
            Value = row.MeanAccuracy * 100,
            Error = row.AccuracySpread * 100,
            Size = 0.65,
            FillColor = ChartRendering.Palette[row.DeltaFromPrevious is < 0 ? 3 : 0],
            LineWidth = 0,
            Label = Label(row),
            Orientation = Orientation.Horizontal,
        }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 13;
        // Differences of tenths of a point matter: zoom onto the bars' range instead of starting at 0.
        double low = rows.Min(r => (r.MeanAccuracy - r.AccuracySpread) * 100);
        double high = rows.Max(r => (r.MeanAccuracy + r.AccuracySpread) * 100);
        double span = Math.Max(high - low, 0.5);
        plot.Axes.SetLimits(Math.Max(0, low - span * 0.6), Math.Min(100, high) + span * 0.9, -0.6, rows.Count - 0.4);
        return plot;
    }

    /// <summary>The training-time panel (seconds, mean over the seeds).</summary>
    internal static Plot BuildTime(AblationResult result)
    {
        var rows = result.Rows;
        var plot = NewPanel(rows, "Training time (s)", "mean wall time per run");
        var bars = rows.Select((row, i) => new Bar
        {
            Position = rows.Count - 1 - i,
            Value = row.MeanTrainingTime.TotalSeconds,
            Size = 0.65,
            FillColor = ChartRendering.Palette[7],
            LineWidth = 0,
            Label = row.MeanTrainingTime.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),
            Orientation = Orientation.Horizontal,
        }).ToList();
        var barPlot = plot.Add.Bars(bars);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 13;
        double longest = rows.Max(r => r.MeanTrainingTime.TotalSeconds);
        plot.Axes.SetLimits(0, Math.Max(longest, 1e-3) * 1.25, -0.6, rows.Count - 0.4);
        return plot;
    }

    private static Plot NewPanel(IReadOnlyList<AblationRow> rows, string title, string axis)
    {
        var plot = ChartRendering.NewPlot();
        plot.Title(title);
        plot.XLabel(axis);
        var positions = Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray();
        plot.Axes.Left.SetTicks(positions, rows.Select(r => r.Name).ToArray());
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Grid.YAxisStyle.IsVisible = false;
        return plot;
    }

    private static string Label(AblationRow row)
    {
        string value = (row.MeanAccuracy * 100).ToString("0.00", CultureInfo.InvariantCulture);
        return row.DeltaFromPrevious is { } delta
            ? $"{value} ({(delta * 100).ToString("+0.00;−0.00;0.00", CultureInfo.InvariantCulture)})"
            : value;
    }
}
