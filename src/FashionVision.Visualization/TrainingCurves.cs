using FashionVision.IO;
using FashionVision.Training;
using ScottPlot;

namespace FashionVision.Visualization;

/// <summary>One panel of <see cref="TrainingCurves"/>.</summary>
public enum TrainingCurve
{
    /// <summary>Training and validation loss per epoch.</summary>
    Loss,

    /// <summary>Training and validation accuracy per epoch, in percent.</summary>
    Accuracy,

    /// <summary>The learning rate at the end of each epoch (log scale when it spans more than a factor of 20).</summary>
    LearningRate,
}

/// <summary>
/// Plots a Trainer history (<see cref="EpochMetrics"/> per epoch): loss, accuracy and learning rate, as one figure with three
/// panels side by side or one panel at a time. Validation curves appear for the epochs that have validation values.
/// </summary>
public static class TrainingCurves
{
    /// <summary>The panels of the combined figure, left to right.</summary>
    public static IReadOnlyList<TrainingCurve> AllPanels { get; } = [TrainingCurve.Loss, TrainingCurve.Accuracy, TrainingCurve.LearningRate];

    /// <summary>Renders loss, accuracy and learning rate side by side as PNG bytes.</summary>
    /// <param name="history">The per-epoch metrics, in epoch order; at least one epoch.</param>
    /// <param name="options">Size and title; null for 1500×450 and the title "Training curves".</param>
    /// <exception cref="ArgumentException">The history is empty, or has NaN/infinite values.</exception>
    public static byte[] RenderPng(IReadOnlyList<EpochMetrics> history, ChartOptions? options = null)
    {
        options ??= new ChartOptions(1500, 450, "Training curves");
        options.Validate(nameof(options));
        Validate(history);
        var plots = AllPanels.Select(panel => BuildPanel(history, panel)).ToArray();
        try
        {
            return ChartRendering.RenderPng(plots, options.Width, options.Height, options.Title);
        }
        finally
        {
            foreach (var plot in plots)
                plot.Dispose();
        }
    }

    /// <summary>Renders one panel as PNG bytes.</summary>
    /// <param name="history">The per-epoch metrics, in epoch order; at least one epoch.</param>
    /// <param name="panel">Which curve.</param>
    /// <param name="options">Size and title; null for 600×450 and no figure title (the panel has its own).</param>
    public static byte[] RenderPng(IReadOnlyList<EpochMetrics> history, TrainingCurve panel, ChartOptions? options = null)
    {
        options ??= new ChartOptions(600, 450);
        options.Validate(nameof(options));
        Validate(history);
        using var plot = BuildPanel(history, panel);
        return ChartRendering.RenderPng([plot], options.Width, options.Height, options.Title);
    }

    /// <summary>Writes the three-panel figure to a PNG file atomically.</summary>
    /// <param name="history">The per-epoch metrics.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults of <see cref="RenderPng(IReadOnlyList{EpochMetrics}, ChartOptions?)"/>.</param>
    public static void SavePng(IReadOnlyList<EpochMetrics> history, string path, ChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(history, options));
    }

    /// <summary>Writes one panel to a PNG file atomically.</summary>
    /// <param name="history">The per-epoch metrics.</param>
    /// <param name="panel">Which curve.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for 600×450.</param>
    public static void SavePng(IReadOnlyList<EpochMetrics> history, TrainingCurve panel, string path, ChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(history, panel, options));
    }

    private static void Validate(IReadOnlyList<EpochMetrics> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
            throw new ArgumentException("The history has no epochs to plot.", nameof(history));
        for (var i = 0; i < history.Count; i++)
        {
            var m = history[i] ?? throw new ArgumentException($"Epoch entry {i} is null.", nameof(history));
            if (!double.IsFinite(m.TrainLoss) || !double.IsFinite(m.TrainAccuracy) || !double.IsFinite(m.LearningRate)
                || m.ValidationLoss is { } vl && !double.IsFinite(vl) || m.ValidationAccuracy is { } va && !double.IsFinite(va))
                throw new ArgumentException($"Epoch {m.Epoch} has a NaN or infinite value.", nameof(history));
        }
    }

    internal static Plot BuildPanel(IReadOnlyList<EpochMetrics> history, TrainingCurve panel)
    {
        var plot = ChartRendering.NewPlot();
        var epochs = history.Select(m => (double)m.Epoch).ToArray();
        plot.XLabel("epoch");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        switch (panel)
        {
            case TrainingCurve.Loss:
                plot.Title("Loss");
                plot.YLabel("loss");
                AddPair(plot, history, epochs, m => m.TrainLoss, m => m.ValidationLoss, Alignment.UpperRight);
                break;
            case TrainingCurve.Accuracy:
                plot.Title("Accuracy");
                plot.YLabel("accuracy (%)");
                AddPair(plot, history, epochs, m => 100 * m.TrainAccuracy, m => 100 * m.ValidationAccuracy, Alignment.LowerRight);
                var best = history.Where(m => m.ValidationAccuracy is not null).MaxBy(m => m.ValidationAccuracy!.Value);
                if (best is not null)
                {
                    var marker = plot.Add.Marker(best.Epoch, 100 * best.ValidationAccuracy!.Value, MarkerShape.OpenCircle, 14, ChartRendering.Palette[1]);
                    marker.LegendText = $"best val {100 * best.ValidationAccuracy!.Value:F2}% (epoch {best.Epoch})";
                }
                break;
            case TrainingCurve.LearningRate:
                plot.Title("Learning rate");
                plot.YLabel("learning rate");
                var rates = history.Select(m => m.LearningRate).ToArray();
                var positive = rates.All(r => r > 0);
                var logScale = positive && rates.Max() / rates.Min() > 20;
                var ys = logScale ? rates.Select(Math.Log10).ToArray() : rates;
                var line = plot.Add.Scatter(epochs, ys, ChartRendering.Palette[2]);
                line.LineWidth = 2;
                line.MarkerSize = history.Count > 40 ? 0 : 4;
                if (logScale)
                {
                    plot.YLabel("learning rate (log scale)");
                    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                    {
                        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                        IntegerTicksOnly = true,
                        LabelFormatter = y => Math.Pow(10, y).ToString("0.#e0", System.Globalization.CultureInfo.InvariantCulture),
                    };
                }
                break;
            default:
                plot.Dispose();
                throw new ArgumentOutOfRangeException(nameof(panel), panel, "Unknown training-curve panel.");
        }
        if (history.Count == 1)
            plot.Axes.SetLimitsX(0.5, 1.5);
        return plot;
    }

    private static void AddPair(Plot plot, IReadOnlyList<EpochMetrics> history, double[] epochs, Func<EpochMetrics, double> train, Func<EpochMetrics, double?> validation, Alignment legend)
    {
        var trainLine = plot.Add.Scatter(epochs, history.Select(train).ToArray(), ChartRendering.Palette[0]);
        trainLine.LegendText = "train";
        trainLine.LineWidth = 2;
        trainLine.MarkerSize = history.Count > 40 ? 0 : 4;
        var withValidation = history.Where(m => validation(m) is not null).ToArray();
        if (withValidation.Length > 0)
        {
            var validationLine = plot.Add.Scatter(
                withValidation.Select(m => (double)m.Epoch).ToArray(),
                withValidation.Select(m => validation(m)!.Value).ToArray(),
                ChartRendering.Palette[1]);
            validationLine.LegendText = "validation";
            validationLine.LineWidth = 2;
            validationLine.MarkerSize = withValidation.Length > 40 ? 0 : 4;
        }
        plot.ShowLegend(legend);
    }
}
