using FashionVision.IO;
using FashionVision.Training;

namespace FashionVision.Visualization;

/// <summary>
/// Plots <see cref="GradientFlowMonitor"/>'s history: the mean L2 gradient norm of every layer (input on the left, head on the
/// right) on a log scale, one line per epoch (at most six: the first, the last and some between). A line that falls by orders
/// of magnitude towards the input shows vanishing gradients.
/// </summary>
public static class GradientFlowChart
{
    /// <summary>Renders the chart as PNG bytes.</summary>
    /// <param name="history">The monitor's epochs (at least one), all over the same layers.</param>
    /// <param name="options">Size and title; null for 1200×600 and the title "Gradient flow".</param>
    /// <exception cref="ArgumentException">The history is empty, its epochs have different layers, or a norm is negative or not finite.</exception>
    public static byte[] RenderPng(IReadOnlyList<GradientFlowEpoch> history, ChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= new ChartOptions(1200, 600);
        options.Validate(nameof(options));
        if (history.Count == 0 || history[0].Layers.Count == 0)
            throw new ArgumentException("The gradient-flow history has no epochs or no layers to plot.", nameof(history));
        var layers = history[0].Layers.Select(l => l.Layer).ToArray();
        foreach (var epoch in history)
        {
            if (!epoch.Layers.Select(l => l.Layer).SequenceEqual(layers))
                throw new ArgumentException($"Epoch {epoch.Epoch} has other layers than epoch {history[0].Epoch}.", nameof(history));
            if (epoch.Layers.Any(l => !(l.MeanNorm >= 0) || double.IsInfinity(l.MeanNorm)))
                throw new ArgumentException($"Epoch {epoch.Epoch} has a negative, NaN or infinite gradient norm.", nameof(history));
        }
        // Zero norms (frozen or unused parameters) sit at the bottom of the log scale, a decade under the smallest positive one.
        var positive = history.SelectMany(e => e.Layers).Select(l => l.MeanNorm).Where(v => v > 0).DefaultIfEmpty(1e-12).Min();
        var floor = positive / 10;
        var series = LayerProfilePlot.EpochsToDraw(history.Count)
            .Select(i => ($"epoch {history[i].Epoch}", history[i].Layers.Select(l => Math.Max(l.MeanNorm, floor)).ToArray()))
            .ToArray();
        using var plot = LayerProfilePlot.Build(options.Title ?? "Gradient flow", "mean gradient L2 norm per layer", layers, series, logScale: true);
        return ChartRendering.RenderPng([plot], options.Width, options.Height, null);
    }

    /// <summary>Renders the chart and writes it to a PNG file atomically.</summary>
    /// <param name="history">The monitor's epochs.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults.</param>
    public static void SavePng(IReadOnlyList<GradientFlowEpoch> history, string path, ChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(history, options));
    }
}
