namespace FashionVision.Training;

/// <summary>One training batch, as <see cref="StepHistory"/> records it.</summary>
/// <param name="Epoch">The epoch, starting at 1.</param>
/// <param name="Batch">The batch within the epoch, starting at 1.</param>
/// <param name="GlobalStep">Optimizer steps done after this batch.</param>
/// <param name="EpochProgress">Where the batch ends on an epoch axis: <c>Epoch − 1 + Batch / batches per epoch</c>, so the last batch of epoch 3 is at 3.0 and lines up with that epoch's validation point.</param>
/// <param name="Loss">The batch's training loss (NaN or infinite only when a skipped batch diverged).</param>
/// <param name="LearningRate">The learning rate the batch was trained with (first parameter group).</param>
public sealed record StepMetrics(int Epoch, int Batch, long GlobalStep, double EpochProgress, double Loss, double LearningRate);
