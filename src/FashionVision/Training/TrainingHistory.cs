namespace FashionVision.Training;

/// <summary>What a <see cref="Trainer.Fit"/> run measured: one <see cref="EpochMetrics"/> per epoch, the best epoch, and how it ended.</summary>
public sealed class TrainingHistory
{
    /// <summary>Per-epoch metrics, in order (a resumed run includes the epochs before the checkpoint).</summary>
    public List<EpochMetrics> Epochs { get; } = new();

    /// <summary>The epoch (starting at 1) with the best monitored validation metric, or null without validation.</summary>
    public int? BestEpoch { get; internal set; }

    /// <summary>The best monitored metric value (validation loss or accuracy), or null.</summary>
    public double? BestMetric { get; internal set; }

    /// <summary>True when early stopping (or a callback) ended the run before the last epoch.</summary>
    public bool StoppedEarly { get; internal set; }

    /// <summary>Why the run stopped early, or null.</summary>
    public string? StopReason { get; internal set; }

    /// <summary>The validation of the untrained model (epoch 0) when <see cref="TrainerOptions.Epochs"/> is 0 and a validation set was given; otherwise null.</summary>
    public ValidationResult? InitialValidation { get; internal set; }

    /// <summary>The epoch the run resumed after (0 for a fresh run).</summary>
    public int ResumedAfterEpoch { get; internal set; }

    /// <summary>Wall time of this <see cref="Trainer.Fit"/> call.</summary>
    public TimeSpan TotalTime { get; internal set; }

    /// <summary>The metrics of the last epoch, or null.</summary>
    public EpochMetrics? Last => Epochs.Count == 0 ? null : Epochs[^1];
}
