using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Transforms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>The process-level side of a run: what a <see cref="RunSpec"/> does not say because it belongs to this process.</summary>
public sealed record TrainingRunOptions
{
    /// <summary>The device (default CPU).</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// When a time budget began (default: when the current process started, so start-up and data loading count, as they
    /// do in the measured runs). Ignored by specs without a budget.
    /// </summary>
    public DateTimeOffset? BudgetStartedAt { get; init; }

    /// <summary>The clock the trainer and its budget read (default the system's; tests and the virtual-clock search pass their own).</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Where the run logs (default none).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Receives the trainer's progress.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>More callbacks for the trainer, made once the run is set up (e.g. image loggers that need the training set).</summary>
    public Func<TrainingRunSetup, IEnumerable<TrainerCallback>>? Callbacks { get; init; }

    /// <summary>Runs <see cref="Trainer.Fit"/> (the argument) inside the caller's frame, e.g. a live progress display; null runs it directly.</summary>
    public Func<Func<TrainingHistory>, TrainingHistory>? FitWrapper { get; init; }

    /// <summary>
    /// Loads <see cref="ModelSpec.Weights"/> into the network (the model, the file); null loads torchvision ResNet-18
    /// <c>.safetensors</c> weights into <c>resnet18-imagenet</c> only. The CLI passes the TorchVision package's
    /// <c>PyTorchWeights.Load</c>, which reads <c>.pth</c>/<c>.pt</c> and <c>.safetensors</c> state dicts for any zoo model.
    /// </summary>
    public Action<ImageClassifier, string>? LoadWeights { get; init; }

    /// <summary>Builds the network instead of the zoo (search harnesses with experimental layouts); null for <see cref="ModelZoo"/>.</summary>
    public Func<RunSpec, ModelOptions, ImageClassifier>? CreateModel { get; init; }
}

/// <summary>What a run is about to train, for <see cref="TrainingRunOptions.Callbacks"/>.</summary>
/// <param name="Spec">The spec.</param>
/// <param name="Model">The network.</param>
/// <param name="Train">The training images (after the validation hold-out).</param>
/// <param name="TensorBoard">The run's TensorBoard logger, when the spec asks for one.</param>
public sealed record TrainingRunSetup(RunSpec Spec, ImageClassifier Model, InMemoryDataset Train, TensorBoardLogger? TensorBoard);

/// <summary>
/// Runs a <see cref="RunSpec"/> end to end: holds out validation images, builds and initialises the model, lays a time
/// budget from the process start with the test evaluation reserved inside it, trains, evaluates on the test set (with the
/// spec's test-time augmentation), and keeps the spec in the run folder. Every way of starting a run (the CLI's
/// <c>train</c>, recipes, ablations, the quick start, the speedrun harnesses) goes through here.
/// </summary>
/// <example>
/// <code>
/// var spec = Recipes.Get("fashion-mnist-60s").Spec;
/// using var run = TrainingRun.Execute(spec, train, test);
/// Console.WriteLine($"{run.Evaluation.Accuracy:P2}");
/// </code>
/// </example>
public static class TrainingRun
{
    /// <summary>Trains <paramref name="spec"/> on <paramref name="train"/> and evaluates it on <paramref name="test"/>.</summary>
    /// <param name="spec">The run (validated first).</param>
    /// <param name="train">The training split (the validation share is held out from it); not disposed.</param>
    /// <param name="test">The test split; not disposed.</param>
    /// <param name="options">The process-level settings, or null for the defaults.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <returns>The trained model and everything measured; dispose it.</returns>
    /// <exception cref="ArgumentException">The spec is invalid or does not fit the data (the parameter name is the spec's path).</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static TrainingRunResult Execute(RunSpec spec, InMemoryDataset train, InMemoryDataset test, TrainingRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options ??= new TrainingRunOptions();
        spec.Validate();
        var logger = options.Logger ?? NullLogger.Instance;
        var device = options.Device ?? CPU;
        if (!test.ClassNames.SequenceEqual(train.ClassNames))
            throw new ArgumentException($"The test set '{test.Name}' has other classes than the training set '{train.Name}'.", nameof(test));
        if (spec.Output.Folder is { } folder)
        {
            Directory.CreateDirectory(folder);
            if (spec.Output.Resume is { } resume)
                CheckResumedSpec(spec, resume, logger);
            spec.Save(Path.Combine(folder, RunSpec.FileName));
        }

        var (trainSet, validationSet) = HoldOut(train, spec.Data.ValidationSplit, spec.Training.Seed);
        ImageClassifier? model = null;
        ImageClassifier? teacher = null;
        TensorBoardLogger? tensorboard = null;
        try
        {
            var (modelOptions, info) = ModelOptionsFor(spec, trainSet);
            model = options.CreateModel?.Invoke(spec, modelOptions) ?? ModelZoo.Create(spec.Model.Name, modelOptions);
            if (spec.Model.Weights is { } weights)
            {
                if (options.LoadWeights is { } load)
                    load(model, weights);
                else
                    LoadWeights(model, spec.Model.Name, weights, logger);
            }
            CheckModelPrecision(spec, model);

            var trainerOptions = TrainerOptionsFor(spec, trainSet, test.Count, options, device, logger);
            ChannelStatistics? teacherNormalization = null;
            if (spec.Training.Distillation is { } distillation)
            {
                (teacher, teacherNormalization) = LoadTeacher(distillation.Teacher, trainSet);
                trainerOptions = trainerOptions with { Teacher = teacher, Normalization = teacherNormalization, Normalize = teacherNormalization is not null };
            }
            // A whitened stem is computed from the training images as the trainer will normalise them.
            if (spec.Model.WhitenStem)
            {
                var normalization = trainerOptions.Normalize ? trainerOptions.Normalization ?? trainSet.ComputeStatistics() : null;
                trainerOptions = trainerOptions with { Normalization = normalization };
                ConvInitialization.WhitenFirstConvolution(model, trainSet, normalization, sampleSize: 5000, freeze: true);
            }

            var steps = new StepHistory();
            var overfitting = new OverfittingMonitor(spec.Training.OverfittingThreshold);
            tensorboard = spec.Output.TensorBoard is { } logDirectory ? new TensorBoardLogger(logDirectory) : null;
            var gradientFlow = spec.Training.Diagnostics ? new GradientFlowMonitor() : null;
            var deadRelu = spec.Training.Diagnostics ? new DeadReluMonitor() : null;
            var setup = new TrainingRunSetup(spec, model, trainSet, tensorboard);
            TrainerCallback?[] runCallbacks = [steps, overfitting, tensorboard, gradientFlow, deadRelu];
            trainerOptions = trainerOptions with
            {
                Callbacks = [.. trainerOptions.Callbacks, .. runCallbacks.OfType<TrainerCallback>(), .. options.Callbacks?.Invoke(setup) ?? []],
            };
            trainerOptions = trainerOptions.WithZooModel(spec.Model.Name, modelOptions);

            using var trainer = new Trainer(model, trainerOptions);
            TrainingHistory Fit() => trainer.Fit(trainSet, validationSet, cancellationToken);
            var history = options.FitWrapper is { } wrap ? wrap(Fit) : Fit();

            var clock = Stopwatch.StartNew();
            var evaluation = Evaluator.Evaluate(model, test, new EvaluatorOptions
            {
                Device = device,
                Normalization = trainer.Normalization,
                MistakeCount = spec.Evaluation.MistakeCount,
                Tta = spec.Evaluation.CreateTta(),
            });
            var evaluationTime = clock.Elapsed;
            long images = trainer.GlobalStep * trainerOptions.BatchSize * trainerOptions.AccumulationSteps;
            logger.LogInformation("Test accuracy {Accuracy:P2} on {Count} images ({Views} view(s)), evaluated in {Seconds:0.0} s.",
                evaluation.Accuracy, evaluation.Count, spec.Evaluation.CreateTta().Views.Count, evaluationTime.TotalSeconds);
            var result = new TrainingRunResult(spec, model, info, trainSet == train ? null : trainSet, validationSet, history, evaluation)
            {
                Normalization = trainer.Normalization,
                ImagesTrained = images,
                TrainingTime = history.TotalTime,
                EvaluationTime = evaluationTime,
                IntraOpThreads = trainer.IntraOpThreads,
                LastCheckpoint = trainer.LastCheckpointPath,
                Steps = steps.Steps,
                OverfittingWarnings = overfitting.Warnings,
                GradientFlow = gradientFlow,
                DeadRelu = deadRelu,
                TensorBoard = tensorboard,
                Teacher = teacher,
                Precision = trainer.ResolvedPrecision ?? trainerOptions.Precision,
                PrecisionReason = trainer.PrecisionReason,
            };
            return result;
        }
        catch
        {
            model?.Dispose();
            teacher?.Dispose();
            tensorboard?.Dispose();
            if (!ReferenceEquals(trainSet, train))
                trainSet.Dispose();
            validationSet?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The training and validation images of a run: a stratified, seeded share of <paramref name="data"/> held out for
    /// validation, or <paramref name="data"/> itself (not copied) when the share is 0.
    /// </summary>
    /// <exception cref="ArgumentException">The share leaves no training or no validation images; the message says how many there are and what to change.</exception>
    public static (InMemoryDataset Train, InMemoryDataset? Validation) HoldOut(InMemoryDataset data, double fraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (fraction <= 0)
            return (data, null);
        var (train, validation) = data.SplitStratified(fraction, seed);
        if (train.Count > 0 && validation.Count > 0)
            return (train, validation);
        long kept = train.Count, held = validation.Count;
        train.Dispose();
        validation.Dispose();
        // The CLI's spelling first: that is where most specs come from (Data.ValidationSplit in a spec file).
        throw new ArgumentException(
            $"--validation-split {fraction} of {data.Count:N0} images leaves the {(kept == 0 ? "training" : "validation")} split empty " +
            $"({held:N0} of {data.Count:N0} images held out, rounded per class); use more images, another --validation-split, or --validation-split 0 for none.",
            "Data.ValidationSplit");
    }

    /// <summary>The zoo options the spec's network is built with for <paramref name="train"/>, and its description.</summary>
    private static (ModelOptions Options, ModelInfo Info) ModelOptionsFor(RunSpec spec, InMemoryDataset train)
    {
        var (channels, height, width) = train.ImageShape;
        var registration = ModelZoo.GetRegistration(spec.Model.Name);
        bool sizeFits = registration.InputHeight == height && registration.InputWidth == width;
        // The model's own preprocessing (resnet18-imagenet: ImageNet's) when the data does not fit it or InputSize asks for it.
        var preprocessing = spec.Model.InputSize is int size
            ? (registration.Preprocessing ?? new InputPreprocessing()) with { Size = size }
            : sizeFits ? null : registration.Preprocessing;
        var defaults = ModelZoo.DefaultOptions(spec.Model.Name);
        var options = defaults with
        {
            InputChannels = channels,
            Width = spec.Model.Width ?? defaults.Width,
            NumClasses = train.NumClasses,
            Seed = spec.Training.Seed,
            Preprocessing = preprocessing,
        };
        if (spec.Model.CosineScale is { } scale)
            options = options with { Head = HeadKind.Cosine, CosineScale = scale };
        // A model that does not fit the images and has no preprocessing of its own is tried as it is: the trainer's first
        // forward pass says whether it takes them (FastCnn's global pooling takes any size).
        return (options, ModelZoo.Describe(spec.Model.Name, options with { Seed = null }));
    }

    private static void CheckModelPrecision(RunSpec spec, ImageClassifier model)
    {
        if (spec.Training.Precision == ComputePrecision.BFloat16 && !model.SupportsBFloat16)
            throw new ArgumentException($"Training.Precision is BFloat16 but {spec.Model.Name} computes in float32 only (the FastCnn family supports bfloat16; Auto chooses for you).", "Training.Precision");
    }

    /// <summary>The trainer's options for the spec: the spec's training plus the run's device, folder, budget anchor and reserve.</summary>
    private static TrainerOptions TrainerOptionsFor(RunSpec spec, InMemoryDataset train, long testImages, TrainingRunOptions run, Device device, ILogger logger)
    {
        var t = spec.Training;
        var options = t.ToTrainerOptions(train.ClassNames, spec.Data.FlipsAllowed);
        if (options.TimeBudget is { } budget)
        {
            // The budget counts from the process start and keeps back the time of the test evaluation (its views included)
            // and a margin for printing the result and exiting.
            options = options with
            {
                TimeBudget = budget with
                {
                    StartedAt = run.BudgetStartedAt ?? new DateTimeOffset(Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero),
                    ReserveForImages = testImages * spec.Evaluation.CreateTta().Views.Count,
                    Margin = TimeSpan.FromSeconds(Math.Max(1, 0.005 * budget.Total.TotalSeconds)),
                },
            };
        }
        return options with
        {
            DropLast = train.Count > t.BatchSize,
            Device = device,
            TimeProvider = run.TimeProvider ?? TimeProvider.System,
            CheckpointDirectory = spec.Output.Folder,
            ResumeFrom = spec.Output.Resume,
            AllowChangedOptionsOnResume = spec.Output.AllowChangedSpec,
            Logger = logger,
            Progress = run.Progress,
        };
    }

    private static void LoadWeights(ImageClassifier model, string name, string path, ILogger logger)
    {
        var inner = model is PreprocessedClassifier wrapper ? wrapper.Inner : model;
        if (inner is not ResNet { Stem: ResNetStem.ImageNet } resnet)
            throw new ArgumentException($"Model.Weights loads torchvision resnet18 weights, which only model resnet18-imagenet takes (not {name}).", "Model.Weights");
        var loaded = FineTuning.LoadTorchvisionResNet18(resnet, path);
        logger.LogInformation("Loaded weights from {Path}: {Result}.", path, loaded);
    }

    /// <summary>The teacher of a distillation run, checked against the training set, with the normalisation it was trained with.</summary>
    private static (ImageClassifier Teacher, ChannelStatistics? Normalization) LoadTeacher(string path, InMemoryDataset train)
    {
        if (!File.Exists(path))
            throw new ArgumentException($"Training.Distillation.Teacher: no such checkpoint '{path}'.", "Training.Distillation.Teacher");
        var checkpoint = Checkpoint.Load(path);
        var manifest = checkpoint.Manifest;
        var shape = new[] { train.ImageShape.Channels, train.ImageShape.Height, train.ImageShape.Width };
        if (!manifest.ClassNames.SequenceEqual(train.ClassNames) || (manifest.InputShape.Length == 3 && !manifest.InputShape.SequenceEqual(shape)))
            throw new ArgumentException($"Training.Distillation.Teacher: {Path.GetFileName(path)} was trained on other classes or image sizes than '{train.Name}' has.", "Training.Distillation.Teacher");
        return (checkpoint.CreateZooModel(), manifest.Normalization);
    }

    /// <summary>A resumed run must be the run its folder's spec describes, unless the spec allows a change.</summary>
    private static void CheckResumedSpec(RunSpec spec, string checkpoint, ILogger logger)
    {
        string saved = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpoint)) ?? ".", RunSpec.FileName);
        if (!File.Exists(saved))
            return;
        var differences = spec.DifferencesFrom(RunSpec.Load(saved));
        if (differences.Count == 0)
            return;
        if (!spec.Output.AllowChangedSpec)
            throw new ResumeSettingsMismatchException(checkpoint, differences);
        logger.LogWarning("Resuming {Path} with a changed spec ({Differences}): the run will differ from an uninterrupted one.", checkpoint, string.Join("; ", differences));
    }
}
