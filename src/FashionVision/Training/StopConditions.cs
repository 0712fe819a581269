namespace FashionVision.Training;

/// <summary>
/// Every reason a <see cref="Trainer"/>'s loop ends, in one place (Lightning's <c>FitLoop.done</c>): the epochs are done,
/// the run was cancelled, the validation accuracy reached <see cref="TrainerOptions.StopAtAccuracy"/>, or something asked
/// it to stop, after the current batch (the time budget) or after the current epoch (early stopping, your callbacks).
/// The first reason given is the one the history records.
/// </summary>
internal sealed class StopConditions(int epochs, double? stopAtAccuracy, CancellationToken cancellation)
{
    private string? _afterBatch;
    private string? _afterEpoch;

    /// <summary>Why the loop stops before all its epochs, once something asked it to; null otherwise.</summary>
    public string? Reason => _afterBatch ?? _afterEpoch;

    /// <summary>Asks the loop to stop after the current batch or after the current epoch.</summary>
    public void Request(string reason, bool afterCurrentBatch)
    {
        if (afterCurrentBatch)
            _afterBatch ??= reason;
        else
            _afterEpoch ??= reason;
    }

    /// <summary>Stops the loop after this epoch when the validation accuracy reached the target.</summary>
    public void Validated(ValidationResult result)
    {
        if (stopAtAccuracy is { } target && result.Accuracy >= target)
            Request($"the validation accuracy {result.Accuracy:P2} reached the target {target:P2}", afterCurrentBatch: false);
    }

    /// <summary>Whether the current epoch ends before its next batch.</summary>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public bool EndsEpoch()
    {
        cancellation.ThrowIfCancellationRequested();
        return _afterBatch is not null;
    }

    /// <summary>Whether <paramref name="epoch"/> is the run's last (it is validated whatever the interval).</summary>
    public bool IsLastEpoch(int epoch) => epoch >= epochs || Reason is not null;

    /// <summary>Whether the loop is done after <paramref name="completedEpochs"/> epochs.</summary>
    /// <param name="completedEpochs">Epochs trained so far (a resumed run's included).</param>
    /// <param name="earlyReason">Why, when the loop stops before all its epochs; null when they are done or it goes on.</param>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public bool Done(int completedEpochs, out string? earlyReason)
    {
        cancellation.ThrowIfCancellationRequested();
        earlyReason = completedEpochs >= epochs ? null : Reason;
        return completedEpochs >= epochs || earlyReason is not null;
    }
}
