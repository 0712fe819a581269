using Microsoft.Extensions.Logging;

namespace FashionVision.Training;

/// <summary>
/// Warns when the model starts to overfit: after a validated epoch whose validation loss exceeds the epoch's training
/// loss by more than <see cref="Threshold"/>, it logs a warning through the trainer's logger and records it in
/// <see cref="Warnings"/>. It warns when the gap crosses the threshold, not again for every epoch it stays above it.
/// </summary>
/// <remarks>
/// The training loss is the mean over the epoch's batches in training mode (dropout and augmentation on), the validation
/// loss is measured in evaluation mode at the end of the epoch, so early in training the validation loss is often the
/// lower one; a gap of 0.5 in cross-entropy is well past noise. Strong augmentation (CutMix, Mixup) raises the training
/// loss and so hides some of the gap.
/// </remarks>
public sealed class OverfittingMonitor : TrainerCallback
{
    /// <summary>The default threshold: validation loss more than 0.5 above training loss.</summary>
    public const double DefaultThreshold = 0.5;

    private readonly List<string> _warnings = new();
    private bool _above;
    private bool _resumed;

    /// <summary>Creates the monitor.</summary>
    /// <param name="threshold">How far (in loss units) the validation loss may exceed the training loss before a warning; positive.</param>
    public OverfittingMonitor(double threshold = DefaultThreshold)
    {
        if (!(threshold > 0 && double.IsFinite(threshold)))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The overfitting threshold must be positive and finite.");
        Threshold = threshold;
    }

    /// <summary>The allowed gap between validation and training loss.</summary>
    public double Threshold { get; }

    /// <summary>The warnings of the current run, in order.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer)
    {
        _warnings.Clear();
        if (!_resumed)
            _above = false;
        _resumed = false;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        if (metrics.ValidationLoss is not { } validationLoss || !double.IsFinite(metrics.TrainLoss))
            return;
        double gap = validationLoss - metrics.TrainLoss;
        bool above = gap > Threshold;
        if (above && !_above)
        {
            string message = $"epoch {metrics.Epoch}: the validation loss {validationLoss:0.0000} is {gap:0.00} above the training loss " +
                $"{metrics.TrainLoss:0.0000} (threshold {Threshold:0.##}): the model is overfitting; consider more augmentation, " +
                "regularisation, fewer epochs or early stopping";
            _warnings.Add(message);
            trainer.Logger.LogWarning("Overfitting at {Message}.", message);
        }
        _above = above;
    }

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state) => state.Values["above"] = _above ? 1 : 0;

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state)
    {
        _above = state.Values.GetValueOrDefault("above", 0) != 0;
        _resumed = true;
    }
}
