using System.Globalization;
using FashionVision.IO;
using FashionVision.Training;

namespace FashionVision.Visualization;

/// <summary>
/// Plots <see cref="DeadReluMonitor"/>'s history: the percentage of dead units at every ReLU site (forward order), one line per
/// epoch (at most six), with the last epoch's total in the title.
/// </summary>
public static class DeadReluChart
{
    /// <summary>Renders the chart as PNG bytes.</summary>
    /// <param name="history">The monitor's epochs (at least one, with at least one site).</param>
    /// <param name="options">Size and title; null for 1200×600 and a title with the last epoch's dead fraction.</param>
    /// <exception cref="ArgumentException">The history is empty or has no sites.</exception>
    public static byte[] RenderPng(IReadOnlyList<DeadReluEpoch> history, ChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= new ChartOptions(1200, 600);
        options.Validate(nameof(options));
        if (history.Count == 0 || history[^1].Sites.Count == 0)
            throw new ArgumentException("The dead-ReLU history has no epochs or no ReLU sites to plot.", nameof(history));
        // Sites in the order of the last epoch; an epoch that lacks one (it never ran) plots 0 there.
        var sites = history[^1].Sites.Select(s => s.Site).ToArray();
        var series = LayerProfilePlot.EpochsToDraw(history.Count)
            .Select(i => ($"epoch {history[i].Epoch}", sites.Select(name => 100 * (history[i].Sites.FirstOrDefault(s => s.Site == name)?.DeadFraction ?? 0)).ToArray()))
            .ToArray();
        var last = history[^1];
        var title = options.Title ??
            string.Create(CultureInfo.InvariantCulture, $"Dead ReLU units: {last.DeadUnits:N0} of {last.Units:N0} ({100 * last.DeadFraction:0.0}%) after epoch {last.Epoch}");
        using var plot = LayerProfilePlot.Build(title, "dead units (%)", sites, series, logScale: false);
        plot.Axes.SetLimitsY(0, Math.Max(5, series.Max(s => s.Item2.DefaultIfEmpty(0).Max()) * 1.1));
        return ChartRendering.RenderPng([plot], options.Width, options.Height, null);
    }

    /// <summary>Renders the chart and writes it to a PNG file atomically.</summary>
    /// <param name="history">The monitor's epochs.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults.</param>
    public static void SavePng(IReadOnlyList<DeadReluEpoch> history, string path, ChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(history, options));
    }
}
