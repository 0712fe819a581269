using System.Text.Json;

namespace FashionVision.Training;

/// <summary>
/// The base of the diagnostics monitors (<see cref="GradientFlowMonitor"/>, <see cref="DeadReluMonitor"/>): a sampling
/// interval, and a history of one <typeparamref name="TEpoch"/> per epoch that is kept in checkpoints, so a resumed run
/// continues it.
/// </summary>
/// <typeparam name="TEpoch">What one epoch measured (a JSON-serialisable record).</typeparam>
public abstract class DiagnosticsCallback<TEpoch> : TrainerCallback
{
    private readonly List<TEpoch> _history = new();

    /// <summary>Creates the monitor.</summary>
    /// <param name="interval">Measure every this many steps or batches, ≥ 1.</param>
    protected DiagnosticsCallback(int interval)
    {
        if (interval < 1)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "The interval must be at least 1.");
        Interval = interval;
    }

    /// <summary>Measure every this many optimizer steps (gradients) or training batches (activations).</summary>
    public int Interval { get; }

    /// <summary>One entry per finished epoch.</summary>
    public IReadOnlyList<TEpoch> History => _history;

    /// <summary>Clears the history when a fresh run starts; a resumed run keeps the epochs its checkpoint restored.</summary>
    protected void StartHistory(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (trainer.History.ResumedAfterEpoch == 0)
            _history.Clear();
    }

    /// <summary>Appends an epoch to the history.</summary>
    protected void Record(TEpoch epoch) => _history.Add(epoch);

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state) =>
        state.Strings["history"] = JsonSerializer.Serialize(_history);

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state)
    {
        _history.Clear();
        if (state.Strings.TryGetValue("history", out var json) && JsonSerializer.Deserialize<List<TEpoch>>(json) is { } saved)
            _history.AddRange(saved);
    }
}
