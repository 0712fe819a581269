using FashionVision.IO;
using FashionVision.Training;
using ScottPlot;

namespace FashionVision.Visualization;

/// <summary>One panel of <see cref="TrainingCurves"/>.</summary>
public enum TrainingCurve
{
    /// <summary>Training and validation loss per epoch; with per-batch steps, the raw and smoothed batch losses too.</summary>
    Loss,

    /// <summary>Training and validation accuracy per epoch, in percent.</summary>
    Accuracy,

    /// <summary>The learning rate at the end of each epoch, or of every batch when steps are given (log scale when it spans more than a factor of 20).</summary>
    LearningRate,
}

/// <summary>
/// Plots a Trainer history (<see cref="EpochMetrics"/> per epoch): loss, accuracy and learning rate, as one figure with three
/// panels side by side or one panel at a time. Validation curves appear for the epochs that have validation values.
/// Given the per-batch records of a <see cref="StepHistory"/>, the loss panel also draws every batch's loss (faint) and its
/// smoothed curve, and the learning-rate panel the rate of every batch, on the same epoch axis: a one-epoch run then
/// draws real curves instead of single dots.
/// </summary>
public static class TrainingCurves
{
    /// <summary>The panels of the combined figure, left to right.</summary>
    public static IReadOnlyList<TrainingCurve> AllPanels { get; } = [TrainingCurve.Loss, TrainingCurve.Accuracy, TrainingCurve.LearningRate];

    /// <summary>Renders loss, accuracy and learning rate side by side as PNG bytes.</summary>
    /// <param name="history">The per-epoch metrics, in epoch order; at least one epoch.</param>
    /// <param name="options">Size and title; null for 1500×450 and the title "Training curves".</param>
    /// <exception cref="ArgumentException">The history is empty, or has NaN/infinite values.</exception>
    public static byte[] RenderPng(IReadOnlyList<EpochMetrics> history, ChartOptions? options = null) => RenderPng(history, steps: null, options);

    /// <summary>Renders loss, accuracy and learning rate side by side as PNG bytes, with per-batch curves from <paramref name="steps"/>.</summary>
    /// <param name="history">The per-epoch metrics, in epoch order; at least one epoch.</param>
    /// <param name="steps">Per-batch records (<see cref="StepHistory.Steps"/>), or null or empty for per-epoch curves only.</param>
    /// <param name="options">Size and title; null for 1500×450 and the title "Training curves".</param>
    /// <exception cref="ArgumentException">The history is empty, or has NaN/infinite values, or a step's learning rate is not finite.</exception>
    public static byte[] RenderPng(IReadOnlyList<EpochMetrics> history, IReadOnlyList<StepMetrics>? steps, ChartOptions? options = null)
    {
        options ??= new ChartOptions(1500, 450, "Training curves");
        options.Validate(nameof(options));
        Validate(history, steps);
        var plots = AllPanels.Select(panel => BuildPanel(history, steps, panel)).ToArray();
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
        Validate(history, null);
        using var plot = BuildPanel(history, null, panel);
        return ChartRendering.RenderPng([plot], options.Width, options.Height, options.Title);
    }

    /// <summary>Writes the three-panel figure to a PNG file atomically.</summary>
    /// <param name="history">The per-epoch metrics.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults of <see cref="RenderPng(IReadOnlyList{EpochMetrics}, ChartOptions?)"/>.</param>
    public static void SavePng(IReadOnlyList<EpochMetrics> history, string path, ChartOptions? options = null) => SavePng(history, null, path, options);

    /// <summary>Writes the three-panel figure with per-batch curves to a PNG file atomically.</summary>
    /// <param name="history">The per-epoch metrics.</param>
    /// <param name="steps">Per-batch records (<see cref="StepHistory.Steps"/>), or null for per-epoch curves only.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Size and title; null for the defaults of <see cref="RenderPng(IReadOnlyList{EpochMetrics}, ChartOptions?)"/>.</param>
    public static void SavePng(IReadOnlyList<EpochMetrics> history, IReadOnlyList<StepMetrics>? steps, string path, ChartOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(history, steps, options));
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

    private static void Validate(IReadOnlyList<EpochMetrics> history, IReadOnlyList<StepMetrics>? steps)
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
        for (var i = 0; i < (steps?.Count ?? 0); i++)
        {
            var step = steps![i] ?? throw new ArgumentException($"Step entry {i} is null.", nameof(steps));
            if (!double.IsFinite(step.LearningRate) || !double.IsFinite(step.EpochProgress))
                throw new ArgumentException($"Batch {step.Batch} of epoch {step.Epoch} has a NaN or infinite learning rate or position.", nameof(steps));
        }
    }

    internal static Plot BuildPanel(IReadOnlyList<EpochMetrics> history, IReadOnlyList<StepMetrics>? steps, TrainingCurve panel)
    {
        var plot = ChartRendering.NewPlot();
        var epochs = history.Select(m => (double)m.Epoch).ToArray();
        bool perStep = steps is { Count: > 1 };
        plot.XLabel("epoch");
        // Fractional ticks when a short run is drawn per batch (0, 0.2, ... 1.0); whole epochs otherwise.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = !perStep || history[^1].Epoch >= 3 };
        switch (panel)
        {
            case TrainingCurve.Loss:
                plot.Title("Loss");
                plot.YLabel("loss");
                if (perStep)
                    AddStepLoss(plot, history, steps!);
                else
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
                var xs = perStep ? steps!.Select(s => s.EpochProgress).ToArray() : epochs;
                var rates = perStep ? steps!.Select(s => s.LearningRate).ToArray() : history.Select(m => m.LearningRate).ToArray();
                var positive = rates.All(r => r > 0);
                var logScale = positive && rates.Max() / rates.Min() > 20;
                var ys = logScale ? rates.Select(Math.Log10).ToArray() : rates;
                var line = plot.Add.Scatter(xs, ys, ChartRendering.Palette[2]);
                line.LineWidth = 2;
                line.MarkerSize = xs.Length > 40 ? 0 : 4;
                if (rates.Max() == rates.Min() && rates[0] > 0)
                    plot.Axes.SetLimitsY(0, 2 * rates[0]);   // a constant rate: show it mid-panel, not on an arbitrary ±1 axis
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
        if (perStep)
            plot.Axes.SetLimitsX(0, history[^1].Epoch * 1.03);   // every panel on the same axis, from the start of training
        else if (history.Count == 1)
            plot.Axes.SetLimitsX(0.5, 1.5);
        return plot;
    }

    /// <summary>Every batch's loss (faint), its smoothed curve (bold, <see cref="StepHistory.SmoothingFor"/>), and the per-epoch validation loss, on the epoch axis.</summary>
    private static void AddStepLoss(Plot plot, IReadOnlyList<EpochMetrics> history, IReadOnlyList<StepMetrics> steps)
    {
        var finite = steps.Where(s => double.IsFinite(s.Loss)).ToArray();
        var raw = plot.Add.Scatter(finite.Select(s => s.EpochProgress).ToArray(), finite.Select(s => s.Loss).ToArray(), ChartRendering.Palette[0].WithAlpha(0.3));
        raw.LegendText = "train (per batch)";
        raw.LineWidth = 1;
        raw.MarkerSize = 0;
        var smoothed = StepHistory.Smooth(finite.Select(s => s.Loss).ToArray(), StepHistory.SmoothingFor(finite.Length));
        var trend = plot.Add.Scatter(finite.Select(s => s.EpochProgress).ToArray(), smoothed, ChartRendering.Palette[0]);
        trend.LegendText = "train (smoothed)";
        trend.LineWidth = 2.5f;
        trend.MarkerSize = 0;
        var validated = history.Where(m => m.ValidationLoss is not null).ToArray();
        if (validated.Length > 0)
        {
            var validation = plot.Add.Scatter(validated.Select(m => (double)m.Epoch).ToArray(), validated.Select(m => m.ValidationLoss!.Value).ToArray(), ChartRendering.Palette[1]);
            validation.LegendText = "validation";
            validation.LineWidth = 2;
            validation.MarkerSize = validated.Length > 40 ? 0 : 6;
        }
        plot.ShowLegend(Alignment.UpperRight);
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
