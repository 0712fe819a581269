using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using FashionVision.Data;
using FashionVision.Models;

namespace FashionVision.Training;

/// <summary>
/// The settings that shape a training run: what must stay the same for a resumed run to continue the interrupted one.
/// Every checkpoint stores them (<see cref="CheckpointManifest.RunSettings"/>); <see cref="Trainer.Fit"/> with
/// <see cref="TrainerOptions.ResumeFrom"/> compares them with its own and refuses a difference
/// (<see cref="ResumeSettingsMismatchException"/>) unless <see cref="TrainerOptions.AllowChangedOptionsOnResume"/> is set.
/// </summary>
/// <remarks>
/// Left out on purpose: the device (moving a run to another machine is a reason to resume), the checkpoint folder,
/// callbacks, logging and progress, and the evaluation batch size (none of them changes the weights).
/// </remarks>
public sealed record RunSettings
{
    /// <summary><see cref="TrainerOptions.Epochs"/>: the schedule's length depends on it.</summary>
    public int Epochs { get; init; }

    /// <summary><see cref="TrainerOptions.BatchSize"/>.</summary>
    public int BatchSize { get; init; }

    /// <summary><see cref="TrainerOptions.DropLast"/>.</summary>
    public bool DropLast { get; init; }

    /// <summary>The images in the training set (the batches per epoch, and so the schedule, depend on it).</summary>
    public long TrainingImages { get; init; }

    /// <summary><see cref="TrainerOptions.Seed"/>.</summary>
    public long Seed { get; init; }

    /// <summary>The intra-op thread count the run trained with (<see cref="TrainerOptions.IntraOpThreads"/>, or the process's).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary><see cref="TrainerOptions.Precision"/>.</summary>
    public ComputePrecision Precision { get; init; }

    /// <summary>The length of <see cref="TrainerOptions.TimeBudget"/> in seconds, or null without a budget.</summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary><see cref="TrainerOptions.StopAtAccuracy"/>.</summary>
    public double? StopAtAccuracy { get; init; }

    /// <summary><see cref="TrainerOptions.Optimizer"/>.</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary><see cref="TrainerOptions.Scheduler"/>.</summary>
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>The loss's description (<see cref="ClassificationLoss.Describe"/>).</summary>
    public string Loss { get; init; } = "";

    /// <summary>The augmentation chain's description, or null without augmentation.</summary>
    public string? Augmentation { get; init; }

    /// <summary><see cref="TrainerOptions.AccumulationSteps"/>.</summary>
    public int AccumulationSteps { get; init; }

    /// <summary><see cref="TrainerOptions.GradientClipNorm"/>.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary><see cref="TrainerOptions.EmaDecay"/>.</summary>
    public double? EmaDecay { get; init; }

    /// <summary><see cref="TrainerOptions.EarlyStopping"/>.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }

    /// <summary><see cref="TrainerOptions.Monitor"/>.</summary>
    public MonitorMetric Monitor { get; init; }

    /// <summary><see cref="TrainerOptions.ValidationInterval"/>.</summary>
    public int ValidationInterval { get; init; }

    /// <summary><see cref="TrainerOptions.Normalize"/>.</summary>
    public bool Normalize { get; init; }

    /// <summary><see cref="TrainerOptions.Normalization"/> as given (null: computed from the training set when the run began).</summary>
    public ChannelStatistics? FixedNormalization { get; init; }

    /// <summary><see cref="TrainerOptions.StopOnNonFiniteLoss"/>.</summary>
    public bool StopOnNonFiniteLoss { get; init; }

    /// <summary>The teacher's type name for distillation, or null.</summary>
    public string? Teacher { get; init; }

    /// <summary>The settings of a run with <paramref name="options"/> on <paramref name="trainingImages"/> images.</summary>
    /// <param name="options">The trainer's options.</param>
    /// <param name="loss">The loss the run uses (built from <see cref="TrainerOptions.Loss"/> or <see cref="TrainerOptions.CustomLoss"/>).</param>
    /// <param name="trainingImages">The size of the training set.</param>
    /// <param name="intraOpThreads">The intra-op thread count the run uses.</param>
    public static RunSettings Of(TrainerOptions options, ClassificationLoss loss, long trainingImages, int intraOpThreads)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loss);
        return new RunSettings
        {
            Epochs = options.Epochs,
            BatchSize = options.BatchSize,
            DropLast = options.DropLast,
            TrainingImages = trainingImages,
            Seed = options.Seed,
            IntraOpThreads = intraOpThreads,
            Precision = options.Precision,
            TimeBudgetSeconds = options.TimeBudget?.Total.TotalSeconds,
            StopAtAccuracy = options.StopAtAccuracy,
            Optimizer = options.Optimizer,
            Scheduler = options.Scheduler,
            Loss = loss.Describe(),
            Augmentation = options.Augmentation?.Describe(),
            AccumulationSteps = options.AccumulationSteps,
            GradientClipNorm = options.GradientClipNorm,
            EmaDecay = options.EmaDecay,
            EarlyStopping = options.EarlyStopping,
            Monitor = options.Monitor,
            ValidationInterval = options.ValidationInterval,
            Normalize = options.Normalize,
            FixedNormalization = options.Normalization,
            StopOnNonFiniteLoss = options.StopOnNonFiniteLoss,
            Teacher = options.Teacher?.GetType().Name,
        };
    }

    // Enums by name and nulls written out, so both sides list every setting in declaration order.
    private static readonly JsonSerializerOptions ComparisonJson = new() { Converters = { new JsonStringEnumConverter() } };

    /// <summary>
    /// The settings that differ from <paramref name="saved"/> (e.g. a checkpoint's), by path (<c>Optimizer.LearningRate</c>),
    /// in the order the settings are declared; empty when the runs are the same.
    /// </summary>
    public IReadOnlyList<RunSettingDifference> DifferencesFrom(RunSettings saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var before = Flatten(saved);
        var now = Flatten(this);
        var differences = new List<RunSettingDifference>();
        foreach (var path in now.Keys.Concat(before.Keys).Distinct())
        {
            string? a = before.GetValueOrDefault(path), b = now.GetValueOrDefault(path);
            if (a != b)
                differences.Add(new RunSettingDifference(path, a, b));
        }
        return differences;
    }

    // Each leaf of the JSON form by its path, e.g. "Optimizer.LayerLearningRates[0].Prefix" → "\"layer4\"" (null for null).
    private static Dictionary<string, string?> Flatten(RunSettings settings)
    {
        var leaves = new Dictionary<string, string?>();
        void Walk(JsonElement element, string path)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var property in element.EnumerateObject())
                        Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}");
                    break;
                case JsonValueKind.Array:
                    int i = 0;
                    foreach (var item in element.EnumerateArray())
                        Walk(item, $"{path}[{i++.ToString(CultureInfo.InvariantCulture)}]");
                    if (i == 0)
                        leaves[path] = "[]";
                    break;
                case JsonValueKind.Null:
                    leaves[path] = null;
                    break;
                default:
                    leaves[path] = element.GetRawText();
                    break;
            }
        }
        Walk(JsonSerializer.SerializeToElement(settings, ComparisonJson), "");
        return leaves;
    }
}

/// <summary>One setting that differs between a checkpoint's run and the run resuming it.</summary>
/// <param name="Path">The setting, e.g. <c>Epochs</c> or <c>Optimizer.LearningRate</c>.</param>
/// <param name="Saved">Its value in the checkpoint (JSON), or null when it was not set.</param>
/// <param name="Current">Its value now (JSON), or null when it is not set.</param>
public sealed record RunSettingDifference(string Path, string? Saved, string? Current)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path} {Saved ?? "unset"} → {Current ?? "unset"}";
}

/// <summary>
/// A run resumed from a checkpoint with settings that differ from the checkpoint's: it would not continue the interrupted
/// run (the schedule, the batches or the loss would change). The message lists every difference.
/// </summary>
public sealed class ResumeSettingsMismatchException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="checkpoint">The checkpoint's path.</param>
    /// <param name="differences">The settings that differ.</param>
    public ResumeSettingsMismatchException(string checkpoint, IReadOnlyList<RunSettingDifference> differences)
        : base($"The checkpoint '{checkpoint}' was written by a run with other settings ({string.Join("; ", differences)}); " +
               $"resume with the same options, or set TrainerOptions.{nameof(TrainerOptions.AllowChangedOptionsOnResume)} to continue with the new ones.",
            nameof(TrainerOptions.ResumeFrom))
    {
        Checkpoint = checkpoint;
        Differences = differences;
    }

    /// <summary>The checkpoint's path.</summary>
    public string Checkpoint { get; }

    /// <summary>The settings that differ (checkpoint value → current value).</summary>
    public IReadOnlyList<RunSettingDifference> Differences { get; }
}
