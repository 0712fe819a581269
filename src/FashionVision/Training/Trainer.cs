using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Trains a classifier: seeded mini-batches on a device, an optional augmentation chain, loss, backward, gradient
/// accumulation and clipping, optimizer and schedule, validation, callbacks (non-finite losses, the time budget, EMA, early
/// stopping, checkpoints, your own), progress events, and a history.
/// </summary>
/// <example>
/// <code>
/// using var trainer = new Trainer(model, new TrainerOptions { Epochs = 5, Seed = 1 });
/// var history = trainer.Fit(train, validation);
/// </code>
/// </example>
/// <remarks>
/// <para>One seed drives everything through three distinct streams (<see cref="SeedStreams"/>: torch's global generator,
/// the loader's order, the augmentation generator), so on the CPU the same options give the same weights, and a run
/// resumed from a checkpoint ends with exactly the weights of an uninterrupted one. "The same options" includes the
/// intra-op thread count (<see cref="TrainerOptions.IntraOpThreads"/>): CPU kernels split their reductions by thread, so
/// another count gives other rounding and other weights. Checkpoints record the count and a resumed run uses it again,
/// with the checkpoint's settings (<see cref="RunSettings"/>). The model's initial weights are the caller's: seed its
/// construction too (e.g. <c>ModelOptions.Seed</c>).</para>
/// <para>The Trainer keeps the loop; everything around it is a <see cref="TrainerCallback"/>. Why the loop stops is decided
/// in one place (the epochs, cancellation, <see cref="TrainerOptions.StopAtAccuracy"/>, and <see cref="RequestStop(string, bool)"/>
/// from callbacks such as the time budget and early stopping); checkpoints are written and restored beside
/// <see cref="Checkpoint"/>.</para>
/// </remarks>
public sealed class Trainer : IDisposable
{
    private List<TrainerCallback> _callbacks = new();
    private List<IDisposable> _ownedCallbacks = new();
    private torch.Generator? _generator;
    private StopConditions? _stop;
    private Stopwatch _clock = new();

    /// <summary>Creates a trainer for <paramref name="model"/>; nothing runs until <see cref="Fit"/>.</summary>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded; the message says why (<see cref="Native.TorchRuntime"/>).</exception>
    public Trainer(nn.Module<Tensor, Tensor> model, TrainerOptions? options = null)
    {
        Native.TorchRuntime.EnsureInitialized();
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? new TrainerOptions();
        Logger = Options.Logger ?? NullLogger.Instance;
        Loss = Options.CustomLoss ?? new CrossEntropyLoss();
    }

    /// <summary>The model being trained.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The logger (a null logger when none was given).</summary>
    public ILogger Logger { get; }

    /// <summary>The device training runs on.</summary>
    public Device Device => Options.Device ?? CPU;

    /// <summary>The optimizer of the current (or last) run; null before <see cref="Fit"/>.</summary>
    public optim.Optimizer? Optimizer { get; private set; }

    /// <summary>The learning-rate schedule of the current (or last) run; null before <see cref="Fit"/>.</summary>
    public LearningRateScheduler? Scheduler { get; private set; }

    /// <summary>The loss.</summary>
    public ClassificationLoss Loss { get; private set; }

    /// <summary>The run's moving average of the weights (from <see cref="TrainerOptions.EmaDecay"/> or among the callbacks), or null.</summary>
    public ExponentialMovingAverage? Ema => _callbacks.OfType<ExponentialMovingAverage>().FirstOrDefault();

    /// <summary>The callbacks of the current run, in call order (built-in ones included).</summary>
    public IReadOnlyList<TrainerCallback> Callbacks => _callbacks;

    /// <summary>The epoch being trained (starting at 1), or the last one after <see cref="Fit"/>.</summary>
    public int CurrentEpoch { get; internal set; }

    /// <summary>Optimizer steps taken since the run began (resumes included).</summary>
    public long GlobalStep { get; internal set; }

    /// <summary>The history of the current (or last) run.</summary>
    public TrainingHistory History { get; private set; } = new();

    /// <summary>The class names of the training set.</summary>
    public IReadOnlyList<string> ClassNames { get; private set; } = Array.Empty<string>();

    /// <summary>The settings that shape the current (or last) run, as checkpoints store them; null before <see cref="Fit"/>.</summary>
    public RunSettings? Settings { get; private set; }

    /// <summary>The intra-op thread count of the current (or last) run (<see cref="TrainerOptions.IntraOpThreads"/>, a resumed checkpoint's, or the process's).</summary>
    public int IntraOpThreads { get; private set; }

    /// <summary>The input normalisation in force (stored in checkpoints for predictors), or null.</summary>
    public ChannelStatistics? Normalization { get; private set; }

    /// <summary>The input shape (channels, height, width) of the training set.</summary>
    public (int Channels, int Height, int Width) InputShape { get; private set; }

    /// <summary>The last checkpoint this trainer wrote, or null.</summary>
    public string? LastCheckpointPath { get; internal set; }

    /// <summary>The precision the current (or last) run computes in (<see cref="ComputePrecision.Auto"/> resolved for the device); null before <see cref="Fit"/>.</summary>
    public ComputePrecision? ResolvedPrecision { get; private set; }

    /// <summary>Why the run computes in <see cref="ResolvedPrecision"/> (one sentence, also logged at Information), or null before <see cref="Fit"/>.</summary>
    public string? PrecisionReason { get; private set; }

    /// <summary>Raised after every training batch (on the training thread).</summary>
    public event EventHandler<BatchEndEventArgs>? BatchEnd;

    /// <summary>Raised after every epoch (on the training thread).</summary>
    public event EventHandler<EpochEndEventArgs>? EpochEnd;

    /// <summary>Epochs completed (a resumed run's included); checkpoints record it.</summary>
    internal int CompletedEpochs { get; set; }

    /// <summary>The augmentation generator of the current run.</summary>
    internal torch.Generator AugmentationGenerator => _generator ?? throw new InvalidOperationException("Fit has not started.");

    /// <summary>The schedule's length in its own steps, which a time budget's progress (0 to 1) is laid over.</summary>
    internal long ScheduleLength { get; private set; }
    /// <summary>The precision the model computes in once <see cref="Fit"/> returns (what an evaluation after training uses).</summary>
    internal ComputePrecision PrecisionAfterFit { get; private set; }

    /// <summary>Asks the run to stop after the current epoch (early stopping uses this).</summary>
    public void RequestStop(string reason) => RequestStop(reason, afterCurrentBatch: false);

    /// <summary>Asks the run to stop after the current batch (as the time budget does) or epoch; the first reason given is the one <see cref="TrainingHistory.StopReason"/> records.</summary>
    public void RequestStop(string reason, bool afterCurrentBatch) =>
        _stop?.Request(string.IsNullOrWhiteSpace(reason) ? "stop requested" : reason, afterCurrentBatch);

    /// <summary>Trains on <paramref name="trainSet"/>, validating on <paramref name="validationSet"/> when given.</summary>
    /// <returns>The history: per-epoch metrics, the best epoch, and how the run ended.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the parameter name is the option, e.g. <c>Optimizer.LearningRate</c>), a dataset is empty, or the model's output size differs from the class count.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite (with <see cref="TrainerOptions.StopOnNonFiniteLoss"/>).</exception>
    /// <exception cref="TimeBudgetTooShortException">The <see cref="TrainerOptions.TimeBudget"/> leaves no time to train.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(InMemoryDataset trainSet, InMemoryDataset? validationSet = null, CancellationToken cancellationToken = default)
    {
        Options.Validate();
        FitChecks.Datasets(Options, trainSet, validationSet);
        var resumeFrom = Options.ResumeFrom is { } path ? TrainerCheckpoints.OpenForResume(path) : null;
        IntraOpThreads = Options.IntraOpThreads ?? resumeFrom?.Manifest.RunSettings?.IntraOpThreads ?? torch.get_num_threads();
        using var threads = FitSetup.UseIntraOpThreads(IntraOpThreads);
        return FitCore(trainSet, validationSet, resumeFrom, cancellationToken);
    }

    private TrainingHistory FitCore(InMemoryDataset trainSet, InMemoryDataset? validationSet, Checkpoint? resumeFrom, CancellationToken cancellationToken)
    {
        Loss = Options.CustomLoss ?? LossFactory.Create(Options.Loss);
        Settings = RunSettings.Of(Options, Loss, trainSet.Count, IntraOpThreads);
        if (resumeFrom is not null)
            TrainerCheckpoints.CheckResumeSettings(this, resumeFrom);
        _clock = Stopwatch.StartNew();
        _stop = new StopConditions(Options.Epochs, Options.StopAtAccuracy, cancellationToken);
        CompletedEpochs = 0;
        GlobalStep = 0;
        History = new TrainingHistory();
        ClassNames = trainSet.ClassNames.ToArray();
        InputShape = trainSet.ImageShape;

        torch.manual_seed(SeedStreams.TorchGlobal(Options.Seed));
        _generator?.Dispose();
        _generator = new torch.Generator(SeedStreams.Augmentation(Options.Seed));

        Model.to(Device);
        PrecisionAfterFit = SetPrecision(Options.Precision);
        try
        {
            return FitWithPrecision(trainSet, validationSet, resumeFrom);
        }
        finally
        {
            SetPrecision(PrecisionAfterFit);
        }
    }

    private TrainingHistory FitWithPrecision(InMemoryDataset trainSet, InMemoryDataset? validationSet, Checkpoint? resumeFrom)
    {
        FitChecks.ModelOutput(Model, Device, trainSet);
        Normalization = FitSetup.Normalization(Options, Model, trainSet, resumeFrom, Logger);
        var (trainLoader, validationLoader) = FitSetup.Loaders(Options, trainSet, validationSet, Device, Normalization);
        using var disposeTrain = trainLoader;
        using var disposeValidation = validationLoader;

        Optimizer?.Dispose();
        Optimizer = OptimizerFactory.Create(Model, Options.Optimizer);
        (Scheduler, ScheduleLength) = FitSetup.Schedule(Options, trainLoader.BatchCount);
        Scheduler.Attach(Optimizer);
        DisposeOwnedCallbacks();
        var (callbacks, owned) = FitSetup.Callbacks(Options, Loss);
        (_callbacks, _ownedCallbacks) = (callbacks, owned);

        try
        {
            if (resumeFrom is not null)
                TrainerCheckpoints.Resume(this, resumeFrom, trainSet);
            foreach (var c in _callbacks)
                c.OnFitStart(this);
            Logger.LogInformation("Training {Model} on {Count} images ({Classes} classes) for {Epochs} epochs on {Device}: {Optimizer}, {Scheduler}, {Loss}, augmentation {Augmentation}.",
                Model.GetType().Name, trainSet.Count, trainSet.NumClasses, Options.Epochs, Device, Options.Optimizer.Kind, Scheduler.Describe(), Loss.Describe(), Options.Augmentation?.Describe() ?? "none");

            Optimizer.zero_grad();
            string? earlyReason;
            while (!_stop!.Done(CompletedEpochs, out earlyReason))
                RunEpoch(CompletedEpochs + 1, trainLoader, validationLoader);
            (History.StoppedEarly, History.StopReason) = (earlyReason is not null, earlyReason);
            if (earlyReason is not null)
                Logger.LogInformation("Stopping after epoch {Epoch}: {Reason}.", CompletedEpochs, earlyReason);

            if (Options.Epochs == 0 && validationLoader is not null)
                History.InitialValidation = Validate(validationLoader, epoch: 0);
            History.TotalTime = _clock.Elapsed;
            foreach (var c in _callbacks)
                c.OnFitEnd(this, History);
            Model.eval();
            return History;
        }
        catch (Exception e)
        {
            foreach (var c in _callbacks)
            {
                try { c.OnException(this, e); }
                catch (Exception hookError) { Logger.LogError(hookError, "A callback's OnException failed."); }
            }
            Logger.LogError(e, "Training stopped at epoch {Epoch}: {Message}", CurrentEpoch, e.Message);
            throw;
        }
        finally
        {
            DisposeOwnedCallbacks();
        }
    }

    private void RunEpoch(int epoch, DataLoader trainLoader, DataLoader? validationLoader)
    {
        CurrentEpoch = epoch;
        var epochClock = Stopwatch.StartNew();
        foreach (var c in _callbacks)
            c.OnEpochStart(this, epoch);

        Model.train();
        int batches = trainLoader.BatchCount;
        double lossSum = 0;
        long seen = 0;
        int batchIndex = 0;
        double learningRate = Scheduler!.CurrentLearningRate;
        using var correct = zeros(1, ScalarType.Int64, Device);
        foreach (var batch in trainLoader.GetBatches(epoch - 1))
        {
            if (_stop!.EndsEpoch())
                break;
            batchIndex++;
            foreach (var c in _callbacks)
                c.OnBatchStart(this, epoch, batchIndex);
            learningRate = Scheduler.CurrentLearningRate;
            double lossValue = TrainStep(batch, batchIndex, batches, correct);
            if (double.IsFinite(lossValue))
            {
                lossSum += lossValue * batch.Size;
                seen += batch.Size;
            }
            var args = new BatchEndEventArgs(epoch, batchIndex, batches, batch.Size, lossValue, learningRate, GlobalStep);
            foreach (var c in _callbacks)
                c.OnBatchEnd(this, args);
            if (!double.IsFinite(lossValue))
                Logger.LogWarning("Skipped batch {Batch} of epoch {Epoch}: the loss is {Loss}.", batchIndex, epoch, lossValue);
            BatchEnd?.Invoke(this, args);
            Options.Progress?.Report(new TrainingProgress(epoch, Options.Epochs, batchIndex, batches, GlobalStep, lossValue, learningRate, _clock.Elapsed, false, null));
        }

        double trainLoss = seen == 0 ? double.NaN : lossSum / seen;
        double trainAccuracy = seen == 0 ? double.NaN : correct.item<long>() / (double)seen;

        ValidationResult? validation = null;
        if (validationLoader is not null && (epoch % Options.ValidationInterval == 0 || _stop!.IsLastEpoch(epoch)))
        {
            validation = Validate(validationLoader, epoch);
            Scheduler!.ReportMetric(validation.Loss);
            double monitored = Options.Monitor.ValueIn(validation);
            if (Options.Monitor.IsImprovement(monitored, History.BestMetric))
            {
                History.BestMetric = monitored;
                History.BestEpoch = epoch;
            }
            _stop!.Validated(validation);
            foreach (var c in _callbacks)
                c.OnValidationEnd(this, validation);
        }
        if (Options.Scheduler.Interval == SchedulerInterval.Epoch)
            Scheduler!.Step();

        var metrics = new EpochMetrics(epoch, trainLoss, trainAccuracy, validation?.Loss, validation?.Accuracy, learningRate, epochClock.Elapsed);
        History.Epochs.Add(metrics);
        CompletedEpochs = epoch;
        Logger.LogInformation("Epoch {Epoch}/{Epochs}: train loss {TrainLoss:0.####}, accuracy {TrainAccuracy:P2}{Validation}, lr {LearningRate:G3}, {Seconds:0.0} s.",
            epoch, Options.Epochs, trainLoss, trainAccuracy,
            validation is null ? "" : $"; validation loss {validation.Loss:0.####}, accuracy {validation.Accuracy:P2}", learningRate, metrics.Elapsed.TotalSeconds);
        foreach (var c in _callbacks)
            c.OnEpochEnd(this, metrics);
        EpochEnd?.Invoke(this, new EpochEndEventArgs(metrics));
        Options.Progress?.Report(new TrainingProgress(epoch, Options.Epochs, batches, batches, GlobalStep, trainLoss, learningRate, _clock.Elapsed, true, metrics));
    }

    /// <summary>One batch: forward and loss, then (for a finite loss) backward and, at the end of an accumulation, the optimizer step.</summary>
    /// <returns>The batch's loss; a non-finite one is reported to the callbacks and its update skipped.</returns>
    private double TrainStep(Batch batch, int batchIndex, int batches, Tensor correct)
    {
        using var scope = NewDisposeScope();
        Tensor images = batch.Images, targets = batch.Labels;
        if (Options.Augmentation is { } augmentation)
            (images, targets) = augmentation.Apply(images, targets, _generator!);
        var (logits, loss) = Loss.ForwardBatch(Model, images, targets);
        double lossValue = loss.item<float>();
        using (no_grad())
            correct.add_(logits.argmax(1).eq(batch.Labels).sum());
        if (!double.IsFinite(lossValue))
        {
            Optimizer!.zero_grad();
            return lossValue;
        }

        int accumulation = Options.AccumulationSteps;
        (accumulation > 1 ? loss.div(accumulation) : loss).backward();
        foreach (var c in _callbacks)
            c.OnAfterBackward(this);
        if (batchIndex % accumulation != 0 && batchIndex != batches)
            return lossValue;

        if (Options.GradientClipNorm is { } maxNorm)
            nn.utils.clip_grad_norm_(Optimizer!.parameters(), maxNorm);
        foreach (var c in _callbacks)
            c.OnBeforeOptimizerStep(this);
        Optimizer!.step();
        Optimizer.zero_grad();
        GlobalStep++;
        if (Options.Scheduler.Interval == SchedulerInterval.Batch)
            Scheduler!.Step();
        foreach (var c in _callbacks)
            c.OnAfterOptimizerStep(this);
        return lossValue;
    }

    private ValidationResult Validate(DataLoader loader, int epoch)
    {
        foreach (var c in _callbacks)
            c.OnValidationStart(this, epoch);
        return ValidationPass.Run(Model, loader, ClassNames.Count, Device, epoch);
    }

    /// <summary>Sets the model's compute precision and returns the one it had; <see cref="ComputePrecision.Auto"/> is resolved here by <see cref="Native.DeviceProfile.ChoosePrecision(ImageClassifier, Device)"/>.</summary>
    private ComputePrecision SetPrecision(ComputePrecision precision)
    {
        // Fit calls this twice: with the options' precision, then to restore the model's own (never Auto).
        var (previous, applied, reason) = PrecisionSetting.Apply(Model, precision, Device);
        if (precision == Options.Precision)
        {
            ResolvedPrecision = applied;
            PrecisionReason = reason ?? $"TrainerOptions.Precision is {applied}.";
            if (reason is not null)
                Logger.LogInformation("Compute precision: {Reason}", reason);
        }
        return previous;
    }

    private void DisposeOwnedCallbacks()
    {
        foreach (var c in _ownedCallbacks)
            c.Dispose();
        _ownedCallbacks.Clear();
    }

    /// <summary>Writes a checkpoint of the current state (atomically) to <paramref name="path"/>.</summary>
    /// <remarks>Checkpoints written at the end of an epoch resume exactly; one written mid-epoch resumes at the next epoch.</remarks>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Optimizer is null || Scheduler is null)
            throw new InvalidOperationException("There is nothing to checkpoint before Fit has started.");
        TrainerCheckpoints.Save(this, path);
        LastCheckpointPath = Path.GetFullPath(path);
        Logger.LogDebug("Wrote checkpoint {Path} (epoch {Epoch}).", path, CompletedEpochs);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeOwnedCallbacks();
        Optimizer?.Dispose();
        Optimizer = null;
        _generator?.Dispose();
        _generator = null;
    }
}
