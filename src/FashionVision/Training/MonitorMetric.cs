namespace FashionVision.Training;

/// <summary>Which validation metric decides "best" (for the best epoch, checkpoints and early stopping).</summary>
public enum MonitorMetric
{
    /// <summary>Validation loss, lower is better.</summary>
    ValidationLoss,

    /// <summary>Validation accuracy, higher is better.</summary>
    ValidationAccuracy,
}

/// <summary>Whether a monitored value improves by going down or up (Lightning's <c>mode</c>).</summary>
public enum MonitorMode
{
    /// <summary>Lower is better (a loss).</summary>
    Min,

    /// <summary>Higher is better (an accuracy).</summary>
    Max,
}

/// <summary>
/// The one "is this better" comparison: the history's best epoch, <see cref="EarlyStopping"/> and
/// <see cref="ModelCheckpoint"/> all ask it.
/// </summary>
public static class MonitorMetrics
{
    /// <summary>Whether <paramref name="metric"/> improves downwards (<see cref="MonitorMode.Min"/>) or upwards.</summary>
    public static MonitorMode Mode(this MonitorMetric metric) => metric switch
    {
        MonitorMetric.ValidationLoss => MonitorMode.Min,
        MonitorMetric.ValidationAccuracy => MonitorMode.Max,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "Not a known monitor metric."),
    };

    /// <summary>The value of <paramref name="metric"/> in a validation result.</summary>
    public static double ValueIn(this MonitorMetric metric, ValidationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return metric == MonitorMetric.ValidationLoss ? result.Loss : result.Accuracy;
    }

    /// <summary>
    /// True when <paramref name="value"/> improves on <paramref name="best"/> by more than <paramref name="minDelta"/>
    /// in the direction of <paramref name="mode"/>; any value improves on no best at all (null).
    /// </summary>
    public static bool IsImprovement(this MonitorMode mode, double value, double? best, double minDelta = 0)
    {
        if (best is not { } b)
            return true;
        return mode == MonitorMode.Min ? value < b - minDelta : value > b + minDelta;
    }

    /// <summary>True when <paramref name="value"/> of <paramref name="metric"/> improves on <paramref name="best"/> by more than <paramref name="minDelta"/>.</summary>
    public static bool IsImprovement(this MonitorMetric metric, double value, double? best, double minDelta = 0) =>
        metric.Mode().IsImprovement(value, best, minDelta);
}
