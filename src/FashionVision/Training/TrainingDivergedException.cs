namespace FashionVision.Training;

/// <summary>Thrown when the training loss becomes NaN or infinite. The last checkpoint written before it (if any) is intact.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingDivergedException(int epoch, int batch, double loss, string? lastGoodCheckpoint)
        : base($"Training diverged: the loss is {loss} at epoch {epoch}, batch {batch}. " +
               (lastGoodCheckpoint is null ? "No checkpoint was written before it. " : $"The last good checkpoint is '{lastGoodCheckpoint}'. ") +
               "Lower the learning rate, add warmup or gradient clipping (TrainerOptions.GradientClipNorm).")
    {
        Epoch = epoch;
        Batch = batch;
        Loss = loss;
        LastGoodCheckpoint = lastGoodCheckpoint;
    }

    /// <summary>The epoch (starting at 1).</summary>
    public int Epoch { get; }

    /// <summary>The batch within the epoch (starting at 1).</summary>
    public int Batch { get; }

    /// <summary>The offending loss value.</summary>
    public double Loss { get; }

    /// <summary>The last checkpoint written before the divergence, or null.</summary>
    public string? LastGoodCheckpoint { get; }
}
