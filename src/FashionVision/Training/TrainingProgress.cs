namespace FashionVision.Training;

/// <summary>Where training is, for a progress bar: reported after every batch (<see cref="EpochCompleted"/> false) and every epoch (true).</summary>
/// <param name="Epoch">The current epoch, starting at 1.</param>
/// <param name="TotalEpochs">The number of epochs of the run.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="BatchesPerEpoch">Batches per epoch.</param>
/// <param name="GlobalStep">Optimizer steps done since the run began.</param>
/// <param name="Loss">The loss of the last batch, or the epoch's mean loss when <see cref="EpochCompleted"/>.</param>
/// <param name="LearningRate">The current learning rate (first parameter group).</param>
/// <param name="Elapsed">Wall time since <see cref="Trainer.Fit"/> started.</param>
/// <param name="EpochCompleted">True for the report at the end of an epoch.</param>
/// <param name="Metrics">The epoch's metrics when <see cref="EpochCompleted"/>, otherwise null.</param>
public sealed record TrainingProgress(
    int Epoch,
    int TotalEpochs,
    int Batch,
    int BatchesPerEpoch,
    long GlobalStep,
    double Loss,
    double LearningRate,
    TimeSpan Elapsed,
    bool EpochCompleted,
    EpochMetrics? Metrics)
{
    /// <summary>The fraction of the run done, in [0, 1].</summary>
    public double Fraction => TotalEpochs == 0 ? 1 : Math.Clamp(((Epoch - 1) + (double)Batch / Math.Max(1, BatchesPerEpoch)) / TotalEpochs, 0, 1);
}

/// <summary>Data of <see cref="Trainer.BatchEnd"/>.</summary>
public sealed class BatchEndEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public BatchEndEventArgs(int epoch, int batch, int batchesPerEpoch, int batchSize, double loss, double learningRate, long globalStep)
    {
        Epoch = epoch;
        Batch = batch;
        BatchesPerEpoch = batchesPerEpoch;
        BatchSize = batchSize;
        Loss = loss;
        LearningRate = learningRate;
        GlobalStep = globalStep;
    }

    /// <summary>The epoch, starting at 1.</summary>
    public int Epoch { get; }

    /// <summary>The batch within the epoch, starting at 1.</summary>
    public int Batch { get; }

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Images in this batch.</summary>
    public int BatchSize { get; }

    /// <summary>The batch's loss (before division by the accumulation steps).</summary>
    public double Loss { get; }

    /// <summary>The learning rate used for this batch.</summary>
    public double LearningRate { get; }

    /// <summary>Optimizer steps done so far.</summary>
    public long GlobalStep { get; }
}

/// <summary>Data of <see cref="Trainer.EpochEnd"/>.</summary>
/// <param name="metrics">The epoch's metrics.</param>
public sealed class EpochEndEventArgs(EpochMetrics metrics) : EventArgs
{
    /// <summary>The epoch's metrics.</summary>
    public EpochMetrics Metrics { get; } = metrics;
}

/// <summary>The result of one validation pass.</summary>
/// <param name="Epoch">The epoch just trained, starting at 1.</param>
/// <param name="Loss">The mean validation loss.</param>
/// <param name="Accuracy">The validation accuracy in [0, 1].</param>
public sealed record ValidationResult(int Epoch, double Loss, double Accuracy)
{
    /// <summary>Counts of (true class, predicted class) over the validation set: rows are true classes, columns predictions (null when not computed).</summary>
    public long[,]? ConfusionMatrix { get; init; }
}
