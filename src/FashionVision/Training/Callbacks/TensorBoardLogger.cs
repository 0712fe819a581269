using FashionVision.IO;

namespace FashionVision.Training;

/// <summary>
/// Logs a run to TensorBoard (<c>tensorboard --logdir DIR</c>): the loss and learning rate of every batch, and after every
/// epoch the training and validation loss and accuracy and the learning rate. The x axis is the number of training
/// batches so far, so per-batch and per-epoch series line up, and a resumed run continues where its checkpoint ended.
/// </summary>
/// <remarks>
/// <para>Tags: <c>loss/train_batch</c>, <c>learning_rate</c> (per batch); <c>loss/train</c>, <c>loss/validation</c>,
/// <c>accuracy/train</c>, <c>accuracy/validation</c> (per epoch, accuracies in [0, 1]).</para>
/// <para>Images (confusion matrices, sample grids) need an image encoder, which the core does not carry: the
/// FashionVision.Visualization package adds them through <see cref="Writer"/> (<c>TensorBoardImages</c>).</para>
/// </remarks>
public sealed class TensorBoardLogger : TrainerCallback, IDisposable
{
    /// <summary>Per-batch training loss.</summary>
    public const string BatchLossTag = "loss/train_batch";

    /// <summary>Per-batch learning rate.</summary>
    public const string LearningRateTag = "learning_rate";

    /// <summary>Mean training loss of each epoch.</summary>
    public const string TrainLossTag = "loss/train";

    /// <summary>Validation loss after each validated epoch.</summary>
    public const string ValidationLossTag = "loss/validation";

    /// <summary>Training accuracy of each epoch.</summary>
    public const string TrainAccuracyTag = "accuracy/train";

    /// <summary>Validation accuracy after each validated epoch.</summary>
    public const string ValidationAccuracyTag = "accuracy/validation";

    /// <summary>Starts a new event file in <paramref name="logDirectory"/>.</summary>
    public TensorBoardLogger(string logDirectory) : this(new TensorBoardEventWriter(logDirectory)) { }

    /// <summary>Logs into an existing writer (which this logger then owns and disposes).</summary>
    public TensorBoardLogger(TensorBoardEventWriter writer) => Writer = writer ?? throw new ArgumentNullException(nameof(writer));

    /// <summary>The event file; add your own scalars or images with it.</summary>
    public TensorBoardEventWriter Writer { get; }

    /// <summary>The TensorBoard step of batch <paramref name="batch"/> of <paramref name="epoch"/>: training batches so far.</summary>
    public static long StepOf(int epoch, int batch, int batchesPerEpoch) => (long)(epoch - 1) * batchesPerEpoch + batch;

    /// <inheritdoc />
    public override void OnBatchEnd(Trainer trainer, BatchEndEventArgs batch)
    {
        long step = StepOf(batch.Epoch, batch.Batch, batch.BatchesPerEpoch);
        if (double.IsFinite(batch.Loss))
            Writer.AddScalar(BatchLossTag, batch.Loss, step);
        Writer.AddScalar(LearningRateTag, batch.LearningRate, step);
        LastStep = step;
    }

    /// <summary>The step of the last batch logged (0 before the first).</summary>
    public long LastStep { get; private set; }

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        if (double.IsFinite(metrics.TrainLoss))
            Writer.AddScalar(TrainLossTag, metrics.TrainLoss, LastStep);
        if (double.IsFinite(metrics.TrainAccuracy))
            Writer.AddScalar(TrainAccuracyTag, metrics.TrainAccuracy, LastStep);
        if (metrics.ValidationLoss is { } loss)
            Writer.AddScalar(ValidationLossTag, loss, LastStep);
        if (metrics.ValidationAccuracy is { } accuracy)
            Writer.AddScalar(ValidationAccuracyTag, accuracy, LastStep);
        Writer.Flush();
    }

    /// <inheritdoc />
    public override void OnFitEnd(Trainer trainer, TrainingHistory history) => Writer.Flush();

    /// <inheritdoc />
    public override void OnException(Trainer trainer, Exception exception) => Writer.Flush();

    /// <inheritdoc />
    public void Dispose() => Writer.Dispose();
}
