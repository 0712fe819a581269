using System.Globalization;
using System.Text;
using FashionVision.IO;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Keeps an exponential moving average of the model's weights (parameters and floating-point buffers; integer buffers are
/// copied): shadow ← d·shadow + (1 − d)·weights after every optimizer step, with d = min(decay, (1 + n)/(10 + n)) after
/// n updates so short runs are not dominated by the initial weights.
/// </summary>
/// <remarks>
/// The callback does all of it: it binds to the model when the run starts, updates after every optimizer step, puts the
/// averaged weights into the model for every validation pass (and takes them out again afterwards), and copies them into
/// the model for good when the run ends (before <see cref="EarlyStopping"/> may restore its best weights). The Trainer
/// registers one when <see cref="TrainerOptions.EmaDecay"/> is set; <see cref="Trainer.Ema"/> is the run's. A checkpoint
/// holds one copy of the averaged weights, the <c>ema.sd</c> entry that predictors read, and the update count as this
/// callback's state.
/// </remarks>
public sealed class ExponentialMovingAverage : TrainerCallback, IDisposable
{
    private (Tensor Live, Tensor Shadow)[]? _pairs;
    private Tensor[]? _backup;

    /// <summary>Creates the callback.</summary>
    public ExponentialMovingAverage(double decay = 0.999)
    {
        if (!(decay > 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must be in (0, 1).");
        Decay = decay;
    }

    /// <summary>The decay d.</summary>
    public double Decay { get; }

    /// <summary>Updates done so far.</summary>
    public long Updates { get; private set; }

    /// <summary>True while the averaged weights are in the model (between <see cref="SwapIn"/> and <see cref="SwapOut"/>).</summary>
    public bool IsSwappedIn => _backup is not null;

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer) => Bind(trainer.Model);

    /// <summary>Binds to <paramref name="model"/>'s weights and starts the average from them.</summary>
    public void Bind(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_pairs is not null)
            return;
        using var noGrad = no_grad();
        _pairs = model.state_dict().Values.Select(t => (t, t.clone().DetachFromDisposeScope())).ToArray();
    }

    /// <inheritdoc />
    public override void OnAfterOptimizerStep(Trainer trainer) => Update();

    /// <summary>Folds the current weights into the average.</summary>
    public void Update()
    {
        if (_pairs is null)
            throw new InvalidOperationException("Bind the EMA to a model first.");
        Updates++;
        double d = Math.Min(Decay, (1.0 + Updates) / (10.0 + Updates));
        using var noGrad = no_grad();
        foreach (var (live, shadow) in _pairs)
        {
            if (shadow.is_floating_point())
                shadow.lerp_(live, 1 - d);
            else
                shadow.copy_(live);
        }
    }

    /// <inheritdoc />
    public override void OnValidationStart(Trainer trainer, int epoch) => SwapIn();

    /// <inheritdoc />
    public override void OnValidationEnd(Trainer trainer, ValidationResult result) => SwapOut();

    /// <inheritdoc />
    public override void OnFitEnd(Trainer trainer, TrainingHistory history) => CopyToModel();

    /// <inheritdoc />
    public override void OnException(Trainer trainer, Exception exception) => SwapOut();

    /// <summary>Puts the averaged weights into the model, keeping the live ones aside.</summary>
    public void SwapIn()
    {
        if (_pairs is null || _backup is not null)
            return;
        using var noGrad = no_grad();
        _backup = _pairs.Select(p => p.Live.clone().DetachFromDisposeScope()).ToArray();
        foreach (var (live, shadow) in _pairs)
            live.copy_(shadow);
    }

    /// <summary>Puts the live weights back.</summary>
    public void SwapOut()
    {
        if (_pairs is null || _backup is null)
            return;
        using var noGrad = no_grad();
        for (int i = 0; i < _pairs.Length; i++)
        {
            _pairs[i].Live.copy_(_backup[i]);
            _backup[i].Dispose();
        }
        _backup = null;
    }

    /// <summary>Copies the averaged weights into the model for good (the live weights are dropped).</summary>
    public void CopyToModel()
    {
        SwapIn();
        if (_backup is null)
            return;
        foreach (var b in _backup)
            b.Dispose();
        _backup = null;
    }

    /// <summary>The averaged weights by state-dict name (views owned by this object).</summary>
    internal IEnumerable<KeyValuePair<string, Tensor>> ShadowState(nn.Module model) =>
        model.state_dict().Keys.Zip(_pairs!.Select(p => p.Shadow), (k, v) => new KeyValuePair<string, Tensor>(k, v));

    /// <summary>Binds to <paramref name="model"/> and replaces the average with <paramref name="shadow"/> (a checkpoint's <c>ema.sd</c>).</summary>
    internal void Restore(nn.Module model, IReadOnlyDictionary<string, Tensor> shadow)
    {
        Bind(model);
        using var noGrad = no_grad();
        var names = model.state_dict().Keys.ToArray();
        for (int i = 0; i < names.Length; i++)
            if (shadow.TryGetValue(names[i], out var t))
                _pairs![i].Shadow.copy_(t);
    }

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state) => state.Values["updates"] = Updates;

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state)
    {
        Bind(trainer.Model);
        Updates = (long)state.Values.GetValueOrDefault("updates", 0);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        SwapOut();
        if (_pairs is not null)
            foreach (var p in _pairs)
                p.Shadow.Dispose();
        _pairs = null;
    }
}

/// <summary>
/// Stops training when the monitored validation metric has not improved by more than <see cref="EarlyStoppingOptions.MinDelta"/>
/// for <see cref="EarlyStoppingOptions.Patience"/> validation checks (patience counts validation checks, not epochs),
/// and optionally puts the best weights back when training ends.
/// </summary>
public sealed class EarlyStopping : TrainerCallback, IDisposable
{
    private Dictionary<string, Tensor>? _bestWeights;

    /// <summary>Creates the callback.</summary>
    public EarlyStopping(EarlyStoppingOptions? options = null, MonitorMetric monitor = MonitorMetric.ValidationLoss)
    {
        Options = options ?? new EarlyStoppingOptions();
        if (Options.Patience < 0)
            throw new ArgumentOutOfRangeException(nameof(options), Options.Patience, "Patience cannot be negative.");
        Monitor = monitor;
    }

    /// <summary>The options.</summary>
    public EarlyStoppingOptions Options { get; }

    /// <summary>The monitored metric.</summary>
    public MonitorMetric Monitor { get; }

    /// <summary>The best metric seen, or null.</summary>
    public double? Best { get; private set; }

    /// <summary>The epoch of <see cref="Best"/>.</summary>
    public int BestEpoch { get; private set; }

    /// <summary>Validation checks since the last improvement.</summary>
    public int Wait { get; private set; }

    /// <inheritdoc />
    public override void OnValidationEnd(Trainer trainer, ValidationResult result)
    {
        double value = Monitor.ValueIn(result);
        if (Monitor.IsImprovement(value, Best, Options.MinDelta))
        {
            Best = value;
            BestEpoch = result.Epoch;
            Wait = 0;
            if (Options.RestoreBestWeights)
                KeepWeights(trainer.Ema?.ShadowState(trainer.Model) ?? trainer.Model.state_dict());
            return;
        }
        Wait++;
        if (Wait >= Options.Patience)
            trainer.RequestStop($"early stopping: {Monitor} has not improved for {Wait} validation checks (best {Best:0.####} at epoch {BestEpoch})");
    }

    private void KeepWeights(IEnumerable<KeyValuePair<string, Tensor>> weights)
    {
        DisposeWeights();
        using var noGrad = no_grad();
        _bestWeights = weights.ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope());
    }

    /// <inheritdoc />
    public override void OnFitEnd(Trainer trainer, TrainingHistory history)
    {
        if (!Options.RestoreBestWeights || _bestWeights is null)
            return;
        StateDictionaryFormat.CopyInto(trainer.Model, _bestWeights, "the early-stopping best weights");
        trainer.Logger.LogInformation("Restored the best weights (epoch {Epoch}, {Monitor} = {Best:0.####}).", BestEpoch, Monitor, Best);
    }

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state)
    {
        state.Values["wait"] = Wait;
        state.Values["best_epoch"] = BestEpoch;
        if (Best is { } b)
            state.Values["best"] = b;
        if (_bestWeights is not null)
            state.SetTensors("best_weights", _bestWeights);
    }

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state)
    {
        Wait = (int)state.Values.GetValueOrDefault("wait", 0);
        BestEpoch = (int)state.Values.GetValueOrDefault("best_epoch", 0);
        Best = state.Values.TryGetValue("best", out var b) ? b : null;
        if (state.GetTensors("best_weights") is { } weights)
        {
            DisposeWeights();
            _bestWeights = weights;
        }
    }

    private void DisposeWeights()
    {
        if (_bestWeights is null)
            return;
        foreach (var t in _bestWeights.Values)
            t.Dispose();
        _bestWeights = null;
    }

    /// <inheritdoc />
    public void Dispose() => DisposeWeights();
}

/// <summary>
/// Writes <c>last.ckpt</c> after every epoch and <c>best.ckpt</c> whenever the monitored validation metric improves,
/// atomically (temporary file, then rename). The Trainer registers it last, so the state of every other callback is final.
/// </summary>
public sealed class ModelCheckpoint : TrainerCallback
{
    /// <summary>Creates the callback.</summary>
    public ModelCheckpoint(string directory, MonitorMetric monitor = MonitorMetric.ValidationLoss, bool saveLast = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = directory;
        Monitor = monitor;
        SaveLast = saveLast;
    }

    /// <summary>The folder the checkpoints go into.</summary>
    public string Directory { get; }

    /// <summary>The metric that decides "best".</summary>
    public MonitorMetric Monitor { get; }

    /// <summary>Write <c>last.ckpt</c> every epoch.</summary>
    public bool SaveLast { get; }

    /// <summary>The best metric so far, or null.</summary>
    public double? Best { get; private set; }

    /// <summary>The path of <c>last.ckpt</c>.</summary>
    public string LastPath => Path.Combine(Directory, "last.ckpt");

    /// <summary>The path of <c>best.ckpt</c>.</summary>
    public string BestPath => Path.Combine(Directory, "best.ckpt");

    /// <summary>The newest checkpoint written by this callback, or null.</summary>
    public string? LastWritten { get; private set; }

    private bool _improved;

    /// <inheritdoc />
    public override void OnFitStart(Trainer trainer) => System.IO.Directory.CreateDirectory(Directory);

    /// <inheritdoc />
    public override void OnValidationEnd(Trainer trainer, ValidationResult result)
    {
        double value = Monitor.ValueIn(result);
        _improved = Monitor.IsImprovement(value, Best);
        if (_improved)
            Best = value;
    }

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
    {
        if (SaveLast)
        {
            trainer.SaveCheckpoint(LastPath);
            LastWritten = LastPath;
        }
        if (_improved)
        {
            trainer.SaveCheckpoint(BestPath);
            LastWritten ??= BestPath;
            _improved = false;
        }
    }

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state)
    {
        if (Best is { } b)
            state.Values["best"] = b;
    }

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state) =>
        Best = state.Values.TryGetValue("best", out var b) ? b : null;
}

/// <summary>Stops the run with <see cref="TrainingDivergedException"/> as soon as a batch loss is NaN or infinite (Keras' TerminateOnNaN).</summary>
/// <remarks>The Trainer never steps the optimizer on a non-finite loss: it reports the loss to the callbacks and skips the
/// update. This callback is what turns that into an error; the Trainer registers it first when
/// <see cref="TrainerOptions.StopOnNonFiniteLoss"/> is set (the default), and without it the run goes on past such batches.</remarks>
public sealed class TerminateOnNaN : TrainerCallback
{
    /// <inheritdoc />
    public override void OnBatchEnd(Trainer trainer, BatchEndEventArgs batch)
    {
        if (!double.IsFinite(batch.Loss))
            throw new TrainingDivergedException(batch.Epoch, batch.Batch, batch.Loss, trainer.LastCheckpointPath);
    }
}

/// <summary>Records the learning rate after every optimizer step (and logs it per epoch at Debug level).</summary>
public sealed class LearningRateMonitor : TrainerCallback
{
    /// <summary>(global step, learning rate of each parameter group) after every optimizer step.</summary>
    public List<(long Step, double[] LearningRates)> Records { get; } = new();

    /// <inheritdoc />
    public override void OnAfterOptimizerStep(Trainer trainer) =>
        Records.Add((trainer.GlobalStep, trainer.Optimizer!.ParamGroups.Select(g => g.LearningRate).ToArray()));

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics) =>
        trainer.Logger.LogDebug("Epoch {Epoch}: learning rate {LearningRate:G4}.", metrics.Epoch, metrics.LearningRate);
}

/// <summary>Writes the history as CSV (epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds) after every epoch, atomically.</summary>
public sealed class CsvLogger : TrainerCallback
{
    /// <summary>Creates the callback.</summary>
    public CsvLogger(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>The CSV file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics) => AtomicFile.WriteAllText(Path, Format(trainer.History.Epochs));

    /// <summary>The CSV text of <paramref name="epochs"/>.</summary>
    public static string Format(IEnumerable<EpochMetrics> epochs)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n");
        foreach (var m in epochs)
            sb.Append(ci, $"{m.Epoch},{m.TrainLoss:R},{m.TrainAccuracy:R},{m.ValidationLoss?.ToString("R", ci)},{m.ValidationAccuracy?.ToString("R", ci)},{m.LearningRate:R},{m.Elapsed.TotalSeconds:0.###}\n");
        return sb.ToString();
    }
}
