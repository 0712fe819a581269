namespace FashionVision.Training;

/// <summary>What one training epoch measured; the Trainer's history is a list of these.</summary>
/// <param name="Epoch">The epoch number, starting at 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch.</param>
/// <param name="TrainAccuracy">Training accuracy in [0, 1] (against the hard labels, before augmentation that mixes targets).</param>
/// <param name="ValidationLoss">Validation loss, or null without a validation set.</param>
/// <param name="ValidationAccuracy">Validation accuracy in [0, 1], or null without a validation set.</param>
/// <param name="LearningRate">The learning rate at the end of the epoch (of the first parameter group).</param>
/// <param name="Elapsed">Wall time of the epoch, validation included.</param>
public sealed record EpochMetrics(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double? ValidationLoss,
    double? ValidationAccuracy,
    double LearningRate,
    TimeSpan Elapsed);
