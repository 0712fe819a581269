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
/// accumulation and clipping, optimizer and schedule, validation, callbacks (EMA, early stopping, checkpoints, your own),
/// progress events, and a history.
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
/// another count gives other rounding and other weights. Checkpoints record the count and a resumed run uses it again.
/// A resumed run must have the checkpoint's settings (<see cref="RunSettings"/>). Checkpoints are consistent at epoch
/// boundaries.</para>
/// <para>The model's initial weights are the caller's: seed the model's construction too (e.g. <c>ModelOptions.Seed</c>).</para>
/// </remarks>
public sealed class Trainer : IDisposable
{
    private readonly List<TrainerCallback> _callbacks = new();
    private readonly List<IDisposable> _ownedCallbacks = new();
    private torch.Generator? _generator;
    private TorchSharp.Modules.Parameter[] _parameters = Array.Empty<TorchSharp.Modules.Parameter>();
    private string? _stopReason;
    private int _completedEpochs;
    private Stopwatch _clock = new();
    private BudgetClock? _budget;
    private long _scheduleSpan;

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

    /// <summary>The EMA of the weights when <see cref="TrainerOptions.EmaDecay"/> is set.</summary>
    public ExponentialMovingAverage? Ema { get; private set; }

    /// <summary>The callbacks of the current run, in call order (built-in ones included).</summary>
    public IReadOnlyList<TrainerCallback> Callbacks => _callbacks;

    /// <summary>The epoch being trained (starting at 1), or the last one after <see cref="Fit"/>.</summary>
    public int CurrentEpoch { get; private set; }

    /// <summary>Optimizer steps taken since the run began (resumes included).</summary>
    public long GlobalStep { get; private set; }

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
    public string? LastCheckpointPath { get; private set; }

    /// <summary>
    /// The precision the current (or last) run computes in: <see cref="TrainerOptions.Precision"/>, or what
    /// <see cref="ComputePrecision.Auto"/> resolved to on this device (<see cref="Native.DeviceProfile.ChoosePrecision(ImageClassifier, Device)"/>).
    /// Null before <see cref="Fit"/>.
    /// </summary>
    public ComputePrecision? ResolvedPrecision { get; private set; }

    /// <summary>Why the run computes in <see cref="ResolvedPrecision"/> (one sentence, also logged at Information), or null before <see cref="Fit"/>.</summary>
    public string? PrecisionReason { get; private set; }

    /// <summary>Raised after every training batch (on the training thread).</summary>
    public event EventHandler<BatchEndEventArgs>? BatchEnd;

    /// <summary>Raised after every epoch (on the training thread).</summary>
    public event EventHandler<EpochEndEventArgs>? EpochEnd;

    /// <summary>Asks the run to stop after the current epoch (early stopping uses this).</summary>
    public void RequestStop(string reason) => _stopReason ??= string.IsNullOrWhiteSpace(reason) ? "stop requested" : reason;

    /// <summary>Trains on <paramref name="trainSet"/>, validating on <paramref name="validationSet"/> when given.</summary>
    /// <returns>The history: per-epoch metrics, the best epoch, and how the run ended.</returns>
    /// <exception cref="ArgumentException">An option is out of range (the parameter name is the option, e.g. <c>Optimizer.LearningRate</c>), a dataset is empty, or the model's output size differs from the class count.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(InMemoryDataset trainSet, InMemoryDataset? validationSet = null, CancellationToken cancellationToken = default)
    {
        Options.Validate();
        CheckDatasets(trainSet, validationSet);
        var resumeFrom = Options.ResumeFrom is { } path ? OpenResumeCheckpoint(path) : null;
        int callerThreads = torch.get_num_threads();
        IntraOpThreads = Options.IntraOpThreads ?? resumeFrom?.Manifest.RunSettings?.IntraOpThreads ?? callerThreads;
        if (IntraOpThreads != callerThreads)
            torch.set_num_threads(IntraOpThreads);
        try
        {
            return FitCore(trainSet, validationSet, resumeFrom, cancellationToken);
        }
        finally
        {
            if (torch.get_num_threads() != callerThreads)
                torch.set_num_threads(callerThreads);
        }
    }

    private TrainingHistory FitCore(InMemoryDataset trainSet, InMemoryDataset? validationSet, Checkpoint? resumeFrom, CancellationToken cancellationToken)
    {
        Loss = Options.CustomLoss ?? LossFactory.Create(Options.Loss);
        Settings = RunSettings.Of(Options, Loss, trainSet.Count, IntraOpThreads);
        if (resumeFrom is not null)
            CheckResumeSettings(resumeFrom);
        _clock = Stopwatch.StartNew();
        _stopReason = null;
        _completedEpochs = 0;
        GlobalStep = 0;
        History = new TrainingHistory();
        ClassNames = trainSet.ClassNames.ToArray();
        InputShape = trainSet.ImageShape;

        torch.manual_seed(SeedStreams.TorchGlobal(Options.Seed));
        _generator?.Dispose();
        _generator = new torch.Generator(SeedStreams.Augmentation(Options.Seed));

        Model.to(Device);
        var previousPrecision = SetPrecision(Options.Precision);
        try
        {
            return FitWithPrecision(trainSet, validationSet, resumeFrom, cancellationToken);
        }
        finally
        {
            SetPrecision(previousPrecision);
        }
    }

    private TrainingHistory FitWithPrecision(InMemoryDataset trainSet, InMemoryDataset? validationSet, Checkpoint? resumeFrom, CancellationToken cancellationToken)
    {
        CheckModelOutput(trainSet);
        // A model that normalises its own input (PreprocessedClassifier) gets [0, 1] pixels, exactly as it will at inference.
        // A resumed run keeps normalising with the statistics it began with, from its first batch on (fixed statistics in
        // the options equal those unless the settings check was overridden, and then the options win).
        bool modelNormalizes = Model is Models.PreprocessedClassifier { Preprocessing.Normalizes: true };
        Normalization = !Options.Normalize || modelNormalizes ? null : Options.Normalization ?? resumeFrom?.Manifest.Normalization ?? trainSet.ComputeStatistics();
        if (Options.Normalize && modelNormalizes)
            Logger.LogInformation("The model normalises its own input ({Preprocessing}); the data is not normalised again.", ((Models.PreprocessedClassifier)Model).Preprocessing);

        using var trainLoader = new DataLoader(trainSet, new DataLoaderOptions
        {
            BatchSize = Options.BatchSize,
            Shuffle = true,
            DropLast = Options.DropLast && trainSet.Count >= Options.BatchSize,
            Seed = Options.Seed,
            Device = Device,
            Normalization = Normalization,
        });
        using var validationLoader = validationSet is null ? null : new DataLoader(validationSet, new DataLoaderOptions
        {
            BatchSize = Options.EvaluationBatchSize,
            Shuffle = false,
            Device = Device,
            Normalization = Normalization,
        });

        Optimizer?.Dispose();
        Optimizer = OptimizerFactory.Create(Model, Options.Optimizer);
        _parameters = Optimizer.parameters().ToArray();
        int stepsPerEpoch = (trainLoader.BatchCount + Options.AccumulationSteps - 1) / Options.AccumulationSteps;
        long scheduleLength = Options.Scheduler.Interval == SchedulerInterval.Batch ? (long)stepsPerEpoch * Options.Epochs : Options.Epochs;
        Scheduler = SchedulerFactory.Create(Options.Scheduler, Math.Max(1, scheduleLength));
        Scheduler.Attach(Optimizer);
        _scheduleSpan = Options.Scheduler.TotalSteps is { } fixedLength ? fixedLength + Options.Scheduler.WarmupSteps : Math.Max(1, scheduleLength);
        _budget = Options.TimeBudget is { } budget ? new BudgetClock(budget, Options.TimeProvider) : null;
        BuildCallbacks();

        try
        {
            if (resumeFrom is not null)
                Resume(resumeFrom, trainSet);
            foreach (var c in _callbacks)
                c.OnFitStart(this);
            Logger.LogInformation("Training {Model} on {Count} images ({Classes} classes) for {Epochs} epochs on {Device}: {Optimizer}, {Scheduler}, {Loss}, augmentation {Augmentation}.",
                Model.GetType().Name, trainSet.Count, trainSet.NumClasses, Options.Epochs, Device, Options.Optimizer.Kind, Scheduler.Describe(), Loss.Describe(), Options.Augmentation?.Describe() ?? "none");

            Optimizer.zero_grad();
            for (int epoch = _completedEpochs + 1; epoch <= Options.Epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_budget is { IsSpent: true })
                {
                    History.StoppedEarly = epoch <= Options.Epochs;
                    History.StopReason = "the time budget is spent";
                    break;
                }
                RunEpoch(epoch, trainLoader, validationLoader, cancellationToken);
                if (_budget is { IsSpent: true } && epoch < Options.Epochs)
                {
                    History.StoppedEarly = true;
                    History.StopReason = $"the time budget of {Options.TimeBudget!.Total.TotalSeconds:0.#} s is spent";
                    Logger.LogInformation("Stopping after epoch {Epoch}: {Reason}.", epoch, History.StopReason);
                    break;
                }
                if (_stopReason is not null && epoch < Options.Epochs)
                {
                    History.StoppedEarly = true;
                    History.StopReason = _stopReason;
                    Logger.LogInformation("Stopping after epoch {Epoch}: {Reason}.", epoch, _stopReason);
                    break;
                }
            }

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

    private void RunEpoch(int epoch, DataLoader trainLoader, DataLoader? validationLoader, CancellationToken cancellationToken)
    {
        CurrentEpoch = epoch;
        var epochClock = Stopwatch.StartNew();
        foreach (var c in _callbacks)
            c.OnEpochStart(this, epoch);

        Model.train();
        int batches = trainLoader.BatchCount;
        int accumulation = Options.AccumulationSteps;
        double lossSum = 0;
        long seen = 0;
        int batchIndex = 0;
        double learningRate = CurrentLearningRate();
        using var correct = zeros(1, ScalarType.Int64, Device);
        foreach (var batch in trainLoader.GetBatches(epoch - 1, cancellationToken))
        {
            if (_budget is { IsSpent: true })
                break;
            batchIndex++;
            foreach (var c in _callbacks)
                c.OnBatchStart(this, epoch, batchIndex);
            learningRate = CurrentLearningRate();
            double lossValue = TrainStep(batch, batchIndex, batches, accumulation, correct);
            if (double.IsFinite(lossValue))
            {
                lossSum += lossValue * batch.Size;
                seen += batch.Size;
            }
            var args = new BatchEndEventArgs(epoch, batchIndex, batches, batch.Size, lossValue, learningRate, GlobalStep);
            foreach (var c in _callbacks)
                c.OnBatchEnd(this, args);
            BatchEnd?.Invoke(this, args);
            Options.Progress?.Report(new TrainingProgress(epoch, Options.Epochs, batchIndex, batches, GlobalStep, lossValue, learningRate, _clock.Elapsed, false, null));
        }

        double trainLoss = seen == 0 ? double.NaN : lossSum / seen;
        double trainAccuracy = seen == 0 ? double.NaN : correct.item<long>() / (double)seen;

        ValidationResult? validation = null;
        bool lastEpoch = epoch == Options.Epochs || _budget is { IsSpent: true };
        if (validationLoader is not null && (epoch % Options.ValidationInterval == 0 || lastEpoch))
        {
            validation = Validate(validationLoader, epoch);
            if (Options.StopAtAccuracy is { } target && validation.Accuracy >= target)
                RequestStop($"the validation accuracy {validation.Accuracy:P2} reached the target {target:P2}");
            Scheduler!.ReportMetric(validation.Loss);
            double monitored = Options.Monitor == MonitorMetric.ValidationLoss ? validation.Loss : validation.Accuracy;
            bool better = History.BestMetric is not { } best || (Options.Monitor == MonitorMetric.ValidationLoss ? monitored < best : monitored > best);
            if (better)
            {
                History.BestMetric = monitored;
                History.BestEpoch = epoch;
            }
            foreach (var c in _callbacks)
                c.OnValidationEnd(this, validation);
        }
        if (Options.Scheduler.Interval == SchedulerInterval.Epoch)
            Scheduler!.Step();

        var metrics = new EpochMetrics(epoch, trainLoss, trainAccuracy, validation?.Loss, validation?.Accuracy, learningRate, epochClock.Elapsed);
        History.Epochs.Add(metrics);
        _completedEpochs = epoch;
        Logger.LogInformation("Epoch {Epoch}/{Epochs}: train loss {TrainLoss:0.####}, accuracy {TrainAccuracy:P2}{Validation}, lr {LearningRate:G3}, {Seconds:0.0} s.",
            epoch, Options.Epochs, trainLoss, trainAccuracy,
            validation is null ? "" : $"; validation loss {validation.Loss:0.####}, accuracy {validation.Accuracy:P2}", learningRate, metrics.Elapsed.TotalSeconds);
        foreach (var c in _callbacks)
            c.OnEpochEnd(this, metrics);
        EpochEnd?.Invoke(this, new EpochEndEventArgs(metrics));
        Options.Progress?.Report(new TrainingProgress(epoch, Options.Epochs, batches, batches, GlobalStep, trainLoss, learningRate, _clock.Elapsed, true, metrics));
    }

    private double TrainStep(Batch batch, int batchIndex, int batches, int accumulation, Tensor correct)
    {
        using var scope = NewDisposeScope();
        Tensor images = batch.Images, targets = batch.Labels;
        if (Options.Augmentation is { } augmentation)
            (images, targets) = augmentation.Apply(images, targets, _generator!);
        var (logits, loss) = ForwardAndLoss(images, targets);
        double lossValue = loss.item<float>();
        using (no_grad())
            correct.add_(logits.argmax(1).eq(batch.Labels).sum());
        if (!double.IsFinite(lossValue))
        {
            if (Options.StopOnNonFiniteLoss)
                throw new TrainingDivergedException(CurrentEpoch, batchIndex, lossValue, LastCheckpointPath);
            Logger.LogWarning("Skipping batch {Batch} of epoch {Epoch}: the loss is {Loss}.", batchIndex, CurrentEpoch, lossValue);
            Optimizer!.zero_grad();
            return lossValue;
        }

        (accumulation > 1 ? loss.div(accumulation) : loss).backward();
        foreach (var c in _callbacks)
            c.OnAfterBackward(this);

        if (batchIndex % accumulation == 0 || batchIndex == batches)
        {
            if (Options.GradientClipNorm is { } maxNorm)
                nn.utils.clip_grad_norm_(_parameters, maxNorm);
            foreach (var c in _callbacks)
                c.OnBeforeOptimizerStep(this);
            Optimizer!.step();
            Optimizer.zero_grad();
            GlobalStep++;
            if (Options.Scheduler.Interval == SchedulerInterval.Batch)
                Scheduler!.Step();
            if (_budget is { } budget)
            {
                // The schedule's position follows the time used when that is ahead of the step count.
                double fraction = budget.Update(GlobalStep * Options.BatchSize * Options.AccumulationSteps);
                Scheduler!.AdvanceTo((long)Math.Floor(fraction * _scheduleSpan));
            }
            foreach (var c in _callbacks)
                c.OnAfterOptimizerStep(this);
        }
        return lossValue;
    }

    /// <summary>The forward pass and the loss: distillation also runs the teacher, a loss on the embedding gets it from the same pass.</summary>
    private (Tensor Logits, Tensor Loss) ForwardAndLoss(Tensor images, Tensor targets)
    {
        if (Loss is EmbeddingLoss embeddingLoss)
        {
            var (output, embeddings) = embeddingLoss.RequireImageClassifier(Model).ForwardWithEmbedding(images);
            output = AsFloat32(output);
            return (output, embeddingLoss.Forward(output, AsFloat32(embeddings), targets));
        }
        var logits = AsFloat32(Model.forward(images));
        return (logits, Loss is DistillationLoss distillation
            ? distillation.Forward(logits, targets, TeacherLogits(images))
            : Loss.Forward(logits, targets));
    }

    private Tensor TeacherLogits(Tensor images)
    {
        var teacher = Options.Teacher!;
        teacher.to(Device);
        teacher.eval();
        using var noGrad = no_grad();
        return teacher.forward(images).detach();
    }

    private ValidationResult Validate(DataLoader loader, int epoch)
    {
        bool swapped = false;
        if (Ema is { IsSwappedIn: false } ema)
        {
            ema.SwapIn();
            swapped = true;
        }
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            using var lossSum = zeros(1, ScalarType.Float64, Device);
            using var correct = zeros(1, ScalarType.Int64, Device);
            int classes = ClassNames.Count;
            using var confusion = zeros(classes * classes, ScalarType.Int64, Device);
            foreach (var batch in loader.GetBatches(0))
            {
                using var scope = NewDisposeScope();
                var logits = AsFloat32(Model.forward(batch.Images));
                var predicted = logits.argmax(1);
                lossSum.add_(nn.functional.cross_entropy(logits, batch.Labels, reduction: nn.Reduction.Sum).to_type(ScalarType.Float64));
                correct.add_(predicted.eq(batch.Labels).sum());
                confusion.add_(batch.Labels.mul(classes).add(predicted).bincount(null, classes * classes));
            }
            double n = loader.Count;
            return new ValidationResult(epoch, lossSum.item<double>() / n, correct.item<long>() / n) { ConfusionMatrix = ToMatrix(confusion, classes) };
        }
        finally
        {
            if (swapped)
                Ema!.SwapOut();
            Model.train();
        }
    }

    private static long[,] ToMatrix(Tensor counts, int classes)
    {
        using var scope = NewDisposeScope();
        var flat = counts.cpu().data<long>().ToArray();
        var matrix = new long[classes, classes];
        Buffer.BlockCopy(flat, 0, matrix, 0, flat.Length * sizeof(long));
        return matrix;
    }

    private double CurrentLearningRate() => Optimizer!.ParamGroups.First().LearningRate;

    private static Tensor AsFloat32(Tensor logits) => logits.dtype == ScalarType.Float32 ? logits : logits.to_type(ScalarType.Float32);

    /// <summary>
    /// Sets the model's compute precision and returns the one it had (float32 for models that are not <see cref="ImageClassifier"/>s).
    /// <see cref="ComputePrecision.Auto"/> is resolved here, once per run, by <see cref="Native.DeviceProfile.ChoosePrecision(ImageClassifier, Device)"/>;
    /// the run's precision and its reason go to <see cref="ResolvedPrecision"/> and <see cref="PrecisionReason"/>.
    /// </summary>
    private ComputePrecision SetPrecision(ComputePrecision precision)
    {
        // Fit calls this twice: with the options' precision, then to restore the model's own (never Auto). Only the first
        // call decides the run's precision.
        bool forRun = precision == Options.Precision;
        string? reason = null;
        if (precision == ComputePrecision.Auto)
        {
            var choice = Model is ImageClassifier c
                ? Native.DeviceProfile.Current.ChoosePrecision(c, Device)
                : new Native.PrecisionChoice(ComputePrecision.Float32, $"{Model.GetType().Name} is not an ImageClassifier, which computes in float32 only.");
            precision = choice.Precision;
            reason = $"Auto chose {choice.Name}: {choice.Reason}";
        }
        ComputePrecision previous;
        if (Model is ImageClassifier classifier)
        {
            previous = classifier.Precision;
            if (precision == ComputePrecision.BFloat16 && !classifier.SupportsBFloat16)
                throw new ArgumentException($"TrainerOptions.Precision is BFloat16 but {Model.GetType().Name} computes in float32 only.", nameof(TrainerOptions.Precision));
            classifier.Precision = precision;
        }
        else
        {
            if (precision != ComputePrecision.Float32)
                throw new ArgumentException($"TrainerOptions.Precision is {precision} but the model is not an ImageClassifier that supports it.", nameof(TrainerOptions.Precision));
            previous = ComputePrecision.Float32;
        }
        if (forRun)
        {
            ResolvedPrecision = precision;
            PrecisionReason = reason ?? $"TrainerOptions.Precision is {precision}.";
            if (reason is not null)
                Logger.LogInformation("Compute precision: {Reason}", reason);
        }
        return previous;
    }

    /// <summary>The weights used for inference: the EMA weights when EMA is on, the model's otherwise (views, not copies).</summary>
    internal IEnumerable<KeyValuePair<string, Tensor>> InferenceWeights() =>
        Ema is { } ema ? ema.ShadowState(Model) : Model.state_dict();

    private void BuildCallbacks()
    {
        DisposeOwnedCallbacks();
        _callbacks.Clear();
        Ema = null;
        if (Options.StopOnNonFiniteLoss)
            _callbacks.Add(new TerminateOnNaN());
        if (Options.EmaDecay is { } decay)
        {
            Ema = new ExponentialMovingAverage(decay);
            _callbacks.Add(Ema);
            _ownedCallbacks.Add(Ema);
            _callbacks.Add(new EmaFinalizer());
        }
        if (Options.EarlyStopping is { } es)
        {
            var stopping = new EarlyStopping(es, Options.Monitor);
            _callbacks.Add(stopping);
            _ownedCallbacks.Add(stopping);
        }
        _callbacks.AddRange(Loss.Callbacks);
        _callbacks.AddRange(Options.Callbacks);
        if (Options.CheckpointDirectory is { } directory)
            _callbacks.Add(new ModelCheckpoint(directory, Options.Monitor));
        var keys = _callbacks.GroupBy(c => c.StateKey).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (keys.Count > 0)
            throw new ArgumentException($"Two callbacks share the state key '{keys[0]}'; override StateKey to make them unique.", nameof(TrainerOptions.Callbacks));
    }

    /// <summary>At the end of a run, copies the EMA weights into the model (before early stopping may restore its best ones).</summary>
    private sealed class EmaFinalizer : TrainerCallback
    {
        public override string StateKey => "EmaFinalizer";

        public override void OnFitEnd(Trainer trainer, TrainingHistory history) => trainer.Ema?.CopyToModel();
    }

    private void DisposeOwnedCallbacks()
    {
        foreach (var c in _ownedCallbacks)
            c.Dispose();
        _ownedCallbacks.Clear();
    }

    private void CheckDatasets(InMemoryDataset trainSet, InMemoryDataset? validationSet)
    {
        ArgumentNullException.ThrowIfNull(trainSet);
        if (trainSet.Count == 0)
            throw new ArgumentException($"The training set '{trainSet.Name}' is empty.", nameof(trainSet));
        if (validationSet is not null)
        {
            if (validationSet.Count == 0)
                throw new ArgumentException($"The validation set '{validationSet.Name}' is empty.", nameof(validationSet));
            if (!validationSet.ClassNames.SequenceEqual(trainSet.ClassNames))
                throw new ArgumentException("The validation set's class names differ from the training set's.", nameof(validationSet));
            if (validationSet.ImageShape != trainSet.ImageShape)
                throw new ArgumentException($"The validation images are {validationSet.ImageShape} but the training images are {trainSet.ImageShape}.", nameof(validationSet));
        }
        else
        {
            if (Options.EarlyStopping is not null)
                throw new ArgumentException("TrainerOptions.EarlyStopping needs a validation set.", nameof(TrainerOptions.EarlyStopping));
            if (Options.Scheduler.Kind == SchedulerKind.ReduceOnPlateau)
                throw new ArgumentException("TrainerOptions.Scheduler ReduceOnPlateau needs a validation set.", "Scheduler.Kind");
            if (Options.StopAtAccuracy is not null)
                throw new ArgumentException("TrainerOptions.StopAtAccuracy needs a validation set.", nameof(TrainerOptions.StopAtAccuracy));
        }
    }

    private void CheckModelOutput(InMemoryDataset trainSet)
    {
        bool wasTraining = Model.training;
        Model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var sample = trainSet.Images.narrow(0, 0, 1).to(Device).to_type(ScalarType.Float32).div(255f);
            Tensor output;
            try
            {
                output = Model.forward(sample);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new ArgumentException($"The model cannot take the training images ({trainSet.ImageShape}): {e.Message}", "model", e);
            }
            if (output.dim() != 2 || output.shape[1] != trainSet.NumClasses)
                throw new ArgumentException(
                    $"The model outputs [{string.Join(", ", output.shape)}] per batch but the training set '{trainSet.Name}' has {trainSet.NumClasses} classes: the model's class count (e.g. ModelOptions.NumClasses) must equal the dataset's.",
                    "model");
        }
        finally
        {
            Model.train(wasTraining);
        }
    }

    /// <summary>Writes a checkpoint of the current state (atomically) to <paramref name="path"/>.</summary>
    /// <remarks>Checkpoints written at the end of an epoch resume exactly; one written mid-epoch resumes at the next epoch.</remarks>
    public void SaveCheckpoint(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Optimizer is null || Scheduler is null)
            throw new InvalidOperationException("There is nothing to checkpoint before Fit has started.");
        var entries = new Dictionary<string, byte[]>
        {
            [Checkpoint.ModelEntry] = StateDictionaryFormat.ToBytes(Model.state_dict()),
            [Checkpoint.OptimizerEntry] = OptimizerState.ToBytes(Optimizer),
        };
        if (Ema is not null)
            entries[Checkpoint.EmaEntry] = StateDictionaryFormat.ToBytes(Ema.ShadowState(Model));
        using (var torchState = torch.get_rng_state())
        using (var augmentationState = _generator!.get_state())
            entries[Checkpoint.RngEntry] = StateDictionaryFormat.ToBytes(new Dictionary<string, Tensor> { ["torch"] = torchState, ["augmentation"] = augmentationState });

        var callbackStates = new Dictionary<string, CallbackStateManifest>();
        foreach (var c in _callbacks)
        {
            var state = new CallbackState();
            c.OnSaveCheckpoint(this, state);
            if (state.IsEmpty)
                continue;
            callbackStates[c.StateKey] = new CallbackStateManifest(state.Values, state.Strings, state.TensorSets.Keys.ToArray());
            foreach (var (name, bytes) in state.TensorSets)
                entries[$"callbacks/{c.StateKey}/{name}.sd"] = bytes;
        }

        var manifest = new CheckpointManifest
        {
            CreatedUtc = DateTime.UtcNow,
            Epoch = _completedEpochs,
            GlobalStep = GlobalStep,
            ModelType = Model.GetType().FullName ?? Model.GetType().Name,
            ModelName = Options.ModelName,
            ModelOptionsJson = Options.ModelOptionsJson,
            ClassNames = ClassNames.ToArray(),
            InputShape = new[] { InputShape.Channels, InputShape.Height, InputShape.Width },
            Normalization = Normalization,
            OptimizerType = Optimizer.GetType().Name,
            Scheduler = Scheduler.Describe(),
            SchedulerState = new Dictionary<string, double>(Scheduler.GetState()),
            TimeBudgetState = _budget is null ? null : new Dictionary<string, double>(_budget.GetState()),
            HasAveragedWeights = Ema is not null,
            BestEpoch = History.BestEpoch,
            BestMetric = History.BestMetric,
            History = History.Epochs.ToArray(),
            RunSettings = Settings,
            Callbacks = callbackStates,
        };
        new Checkpoint(manifest, entries).Save(path);
        LastCheckpointPath = Path.GetFullPath(path);
        Logger.LogDebug("Wrote checkpoint {Path} (epoch {Epoch}).", path, _completedEpochs);
    }

    private static Checkpoint OpenResumeCheckpoint(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        if (!checkpoint.HasOptimizerState)
            throw new ArgumentException($"The checkpoint '{path}' holds no optimizer state and cannot be resumed.", nameof(TrainerOptions.ResumeFrom));
        return checkpoint;
    }

    /// <summary>Refuses to resume a run whose settings differ from the checkpoint's, unless the options allow it.</summary>
    private void CheckResumeSettings(Checkpoint checkpoint)
    {
        string path = checkpoint.Path ?? "(memory)";
        if (checkpoint.Manifest.RunSettings is not { } saved)
        {
            Logger.LogWarning("The checkpoint {Path} records no run settings (written by an older version); they cannot be compared with this run's.", path);
            return;
        }
        var differences = Settings!.DifferencesFrom(saved);
        if (differences.Count == 0)
            return;
        if (!Options.AllowChangedOptionsOnResume)
            throw new ResumeSettingsMismatchException(path, differences);
        Logger.LogWarning("Resuming {Path} with changed settings ({Differences}): the run will differ from an uninterrupted one.", path, string.Join("; ", differences));
    }

    private void Resume(Checkpoint checkpoint, InMemoryDataset trainSet)
    {
        string path = checkpoint.Path ?? "(memory)";
        var manifest = checkpoint.Manifest;
        if (manifest.ClassNames.Count > 0 && !manifest.ClassNames.SequenceEqual(trainSet.ClassNames))
            throw new CheckpointMismatchException(
                $"The checkpoint '{path}' was trained on classes [{string.Join(", ", manifest.ClassNames)}] but the training set has [{string.Join(", ", trainSet.ClassNames)}].",
                Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        checkpoint.LoadWeightsInto(Model, preferAveraged: false);
        OptimizerState.Load(Optimizer!, checkpoint.Entries[Checkpoint.OptimizerEntry], path);
        if (manifest.SchedulerState is { } schedulerState)
            Scheduler!.LoadState(schedulerState);
        if (_budget is not null)
            _budget.Restore(manifest.TimeBudgetState ?? new Dictionary<string, double>(), path);
        var rng = checkpoint.ReadTensors(Checkpoint.RngEntry);
        try
        {
            torch.set_rng_state(rng["torch"]);
            _generator!.set_state(rng["augmentation"]);
        }
        finally
        {
            foreach (var t in rng.Values)
                t.Dispose();
        }
        _completedEpochs = manifest.Epoch;
        CurrentEpoch = manifest.Epoch;
        GlobalStep = manifest.GlobalStep;
        History.Epochs.AddRange(manifest.History);
        History.BestEpoch = manifest.BestEpoch;
        History.BestMetric = manifest.BestMetric;
        History.ResumedAfterEpoch = manifest.Epoch;
        foreach (var c in _callbacks)
        {
            var state = new CallbackState();
            if (manifest.Callbacks.TryGetValue(c.StateKey, out var saved))
            {
                foreach (var (k, v) in saved.Values)
                    state.Values[k] = v;
                foreach (var (k, v) in saved.Strings)
                    state.Strings[k] = v;
                foreach (var name in saved.TensorSets)
                    if (checkpoint.Entries.TryGetValue($"callbacks/{c.StateKey}/{name}.sd", out var bytes))
                        state.TensorSets[name] = bytes;
            }
            c.OnLoadCheckpoint(this, state);
        }
        LastCheckpointPath = Path.GetFullPath(path);
        Logger.LogInformation("Resumed from {Path} after epoch {Epoch} (step {Step}).", path, manifest.Epoch, manifest.GlobalStep);
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
