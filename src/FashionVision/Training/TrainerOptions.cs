using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Transforms;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>Early stopping: stop when the monitored metric has not improved for <see cref="Patience"/> validation checks.</summary>
/// <remarks>Patience counts validation checks, not epochs: with <see cref="TrainerOptions.ValidationInterval"/> = 2 and
/// Patience = 3, training stops after 6 epochs without improvement.</remarks>
public sealed record EarlyStoppingOptions
{
    /// <summary>Validation checks without improvement tolerated (default 5).</summary>
    public int Patience { get; init; } = 5;

    /// <summary>The smallest change that counts as an improvement (default 0).</summary>
    public double MinDelta { get; init; }

    /// <summary>Put the best weights back into the model when training ends (default true).</summary>
    public bool RestoreBestWeights { get; init; } = true;
}

/// <summary>
/// Everything about a training run. The defaults train for 10 epochs with AdamW (lr 1e-3), cross-entropy, batch 128,
/// inputs normalised with the training set's statistics, on the CPU.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>
    /// Epochs to train (default 10; with a <see cref="TimeBudget"/> an upper bound). 0 trains nothing and only validates:
    /// <see cref="Trainer.Fit"/> prepares the run (the normalisation statistics in <see cref="Trainer.Normalization"/>, the
    /// optimizer and the schedule, or a resumed checkpoint's state), validates the model as it is when a validation set is
    /// given (<see cref="TrainingHistory.InitialValidation"/>), and returns a history without epochs; evaluate on a test set
    /// with <c>Evaluator</c> and the trainer's normalisation.
    /// </summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per batch (default 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Drop the last, smaller training batch (default true: BatchNorm dislikes a batch of 1).</summary>
    public bool DropLast { get; init; } = true;

    /// <summary>
    /// The one seed of the run. It drives three distinct streams (<see cref="SeedStreams"/>): torch's global generator
    /// (dropout, lazily created state), the loader's order and the augmentation generator.
    /// </summary>
    /// <remarks>The same seed gives the same weights only on the same device with the same intra-op thread count
    /// (<see cref="IntraOpThreads"/>): CPU kernels split their reductions by thread, so another count rounds differently.</remarks>
    public long Seed { get; init; }

    /// <summary>
    /// The intra-op thread count torch uses while <see cref="Trainer.Fit"/> runs (<c>torch.set_num_threads</c>; the caller's
    /// count is put back afterwards). Null keeps the process's count, or, when resuming, the checkpoint's. The count is part of
    /// the run's settings: checkpoints record it, because the same seed reproduces the same weights only at the same count.
    /// </summary>
    public int? IntraOpThreads { get; init; }

    /// <summary>The device to train on (default CPU). The model is moved there when <see cref="Trainer.Fit"/> starts.</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// The format the model's convolutions compute in during training and validation (default float32). Under
    /// <see cref="ComputePrecision.BFloat16"/> weights, gradients, optimizer state and BatchNorm statistics stay float32
    /// (autocast-style mixed precision); the model must support it (<see cref="ImageClassifier.SupportsBFloat16"/>). The
    /// model is back in its previous precision when <see cref="Trainer.Fit"/> returns.
    /// </summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Float32;

    /// <summary>A wall-clock budget: the schedule is laid over the time and the run ends, annealed, at the deadline (null = none). See <see cref="Training.TimeBudget"/>.</summary>
    public TimeBudget? TimeBudget { get; init; }

    /// <summary>Stop after the first validation whose accuracy reaches this value, in (0, 1] (null = off); needs a validation set.</summary>
    public double? StopAtAccuracy { get; init; }

    /// <summary>The clock that <see cref="TimeBudget"/> reads, its measurement of the evaluation's cost included (default the system clock; tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The optimizer.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>The learning-rate schedule (default constant).</summary>
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>The loss (default cross-entropy).</summary>
    public LossOptions Loss { get; init; } = new();

    /// <summary>A loss object to use instead of <see cref="Loss"/> (e.g. a custom subclass).</summary>
    public ClassificationLoss? CustomLoss { get; init; }

    /// <summary>The teacher for <see cref="LossKind.Distillation"/> (or a <see cref="DistillationLoss"/> built without one): the loss takes it when the run starts and computes its logits in eval mode without gradients.</summary>
    public nn.Module<Tensor, Tensor>? Teacher { get; init; }

    /// <summary>The augmentation chain applied to every training batch on its device (null = none).</summary>
    public IBatchTransform? Augmentation { get; init; }

    /// <summary>Batches whose gradients are summed before each optimizer step (default 1). The loss is divided by it, so the effective batch is BatchSize × AccumulationSteps.</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>Clip the global L2 norm of the gradients to this value before each optimizer step (null = off).</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Keep an exponential moving average of the weights with this decay (e.g. 0.999; null = off). Validation, the best checkpoint and the final model use the averaged weights.</summary>
    public double? EmaDecay { get; init; }

    /// <summary>Early stopping (null = off); needs a validation set.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }

    /// <summary>Which metric picks the best epoch (default validation loss).</summary>
    public MonitorMetric Monitor { get; init; } = MonitorMetric.ValidationLoss;

    /// <summary>Validate every this many epochs (default 1); the last epoch is always validated.</summary>
    public int ValidationInterval { get; init; } = 1;

    /// <summary>The batch size of validation passes (default 512).</summary>
    public int EvaluationBatchSize { get; init; } = 512;

    /// <summary>
    /// Normalise inputs per channel (default true); the statistics come from <see cref="Normalization"/> or, when it is null,
    /// from the training set. A model that normalises its own input (a <see cref="Models.PreprocessedClassifier"/> whose
    /// <see cref="Models.InputPreprocessing.Mean"/> is set, e.g. ImageNet statistics) is given [0, 1] pixels instead.
    /// </summary>
    public bool Normalize { get; init; } = true;

    /// <summary>Fixed normalisation statistics (null = compute them from the training set).</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>Write <c>last.ckpt</c> (every epoch) and <c>best.ckpt</c> (when the monitored metric improves) into this folder (null = no checkpoints).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>
    /// Resume from this checkpoint: model, optimizer, scheduler, epoch, RNG and callback state, and the normalisation the run
    /// began with. The options must shape the same run as the checkpoint's (<see cref="RunSettings"/>: epochs, batch size,
    /// seed, optimizer, schedule, loss, augmentation, …); a difference throws <see cref="ResumeSettingsMismatchException"/>
    /// listing them, unless <see cref="AllowChangedOptionsOnResume"/> is set.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>Resume even when the options differ from the checkpoint's run (default false); the differences are logged as a warning and the run no longer equals an uninterrupted one.</summary>
    public bool AllowChangedOptionsOnResume { get; init; }

    /// <summary>Stop with <see cref="TrainingDivergedException"/> on a NaN or infinite loss (default true: the Trainer registers <see cref="TerminateOnNaN"/>); false skips such batches' updates and goes on.</summary>
    public bool StopOnNonFiniteLoss { get; init; } = true;

    /// <summary>The zoo name of the model, stored in checkpoints so a predictor can rebuild it (optional).</summary>
    public string? ModelName { get; init; }

    /// <summary>The model's options as JSON, stored in checkpoints next to <see cref="ModelName"/> (optional).</summary>
    public string? ModelOptionsJson { get; init; }

    /// <summary>Extra callbacks, called in order after the built-in ones (<see cref="TerminateOnNaN"/>, the time budget, EMA, early stopping) and the loss's (<see cref="ClassificationLoss.Callbacks"/>), and before checkpointing.</summary>
    public IReadOnlyList<TrainerCallback> Callbacks { get; init; } = Array.Empty<TrainerCallback>();

    /// <summary>Where the trainer logs (default none).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Receives a report after every batch and every epoch (for progress bars).</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>Returns these options with <see cref="ModelName"/> and <see cref="ModelOptionsJson"/> describing a zoo model, so checkpoints can rebuild it.</summary>
    public TrainerOptions WithZooModel(string name, Models.ModelOptions? modelOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return this with
        {
            ModelName = name,
            ModelOptionsJson = modelOptions is null ? null : System.Text.Json.JsonSerializer.Serialize(modelOptions with { Seed = null }, Checkpoint.CompactJson),
        };
    }

    /// <summary>Throws an <see cref="ArgumentException"/> whose parameter name is the option at fault (e.g. <c>Optimizer.LearningRate</c>).</summary>
    public void Validate()
    {
        if (Epochs < 0)
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "TrainerOptions.Epochs cannot be negative.");
        if (BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "TrainerOptions.BatchSize must be positive.");
        if (EvaluationBatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(EvaluationBatchSize), EvaluationBatchSize, "TrainerOptions.EvaluationBatchSize must be positive.");
        if (AccumulationSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(AccumulationSteps), AccumulationSteps, "TrainerOptions.AccumulationSteps must be at least 1.");
        if (IntraOpThreads is < 1)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "TrainerOptions.IntraOpThreads must be at least 1.");
        if (ValidationInterval < 1)
            throw new ArgumentOutOfRangeException(nameof(ValidationInterval), ValidationInterval, "TrainerOptions.ValidationInterval must be at least 1.");
        if (GradientClipNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
            throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), clip, "TrainerOptions.GradientClipNorm must be positive and finite.");
        if (EmaDecay is { } decay && !(decay > 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(EmaDecay), decay, "TrainerOptions.EmaDecay must be in (0, 1).");
        if (EarlyStopping is { } es && (es.Patience < 0 || !(es.MinDelta >= 0)))
            throw new ArgumentOutOfRangeException(nameof(EarlyStopping), "TrainerOptions.EarlyStopping needs Patience ≥ 0 and MinDelta ≥ 0.");
        if (Callbacks is null)
            throw new ArgumentNullException(nameof(Callbacks));
        if (!Enum.IsDefined(Precision))
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, "TrainerOptions.Precision is not a known precision.");
        if (StopAtAccuracy is { } target && !(target > 0 && target <= 1))
            throw new ArgumentOutOfRangeException(nameof(StopAtAccuracy), target, "TrainerOptions.StopAtAccuracy must be in (0, 1].");
        if (TimeProvider is null)
            throw new ArgumentNullException(nameof(TimeProvider));
        if (TimeBudget is { } budget)
            Nested(nameof(TimeBudget), budget.Validate);
        Nested(nameof(Optimizer), () => (Optimizer ?? throw new ArgumentNullException(nameof(Optimizer))).Validate());
        Nested(nameof(Scheduler), () => SchedulerFactory.Create(Scheduler ?? throw new ArgumentNullException(nameof(Scheduler)), 100));
        Nested(nameof(Loss), () => LossFactory.Create(Loss ?? throw new ArgumentNullException(nameof(Loss))));
        if (Normalization is { } n && (n.Mean.Length != n.Std.Length || n.Std.Any(s => !(s > 0))))
            throw new ArgumentException("TrainerOptions.Normalization needs one mean and one positive std per channel.", nameof(Normalization));
        if (CustomLoss is null && Loss.Kind == LossKind.Distillation && Teacher is null)
            throw new ArgumentException("TrainerOptions.Loss is Distillation but TrainerOptions.Teacher is not set.", nameof(Teacher));
    }

    private static void Nested(string option, Action validate)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e) when (e.ParamName is not null && !e.ParamName.StartsWith(option, StringComparison.Ordinal))
        {
            string inner = e.ParamName.StartsWith("options.", StringComparison.Ordinal) ? e.ParamName["options.".Length..] : e.ParamName;
            string name = $"{option}.{inner}";
            string message = e.Message;
            int suffix = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
            if (suffix >= 0)
                message = message[..suffix];
            throw new ArgumentException($"TrainerOptions.{name}: {message}", name, e);
        }
    }
}
