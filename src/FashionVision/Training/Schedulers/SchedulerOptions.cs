namespace FashionVision.Training;

/// <summary>The learning-rate schedules <see cref="SchedulerFactory"/> builds.</summary>
public enum SchedulerKind
{
    /// <summary>A constant learning rate.</summary>
    Constant,

    /// <summary><see cref="StepLR"/>.</summary>
    Step,

    /// <summary><see cref="MultiStepLR"/>.</summary>
    MultiStep,

    /// <summary><see cref="CosineAnnealingLR"/>.</summary>
    Cosine,

    /// <summary><see cref="CosineAnnealingWarmRestarts"/>.</summary>
    CosineWarmRestarts,

    /// <summary><see cref="OneCycleLR"/>.</summary>
    OneCycle,

    /// <summary><see cref="ReduceLROnPlateau"/> on the validation loss (needs a validation set).</summary>
    ReduceOnPlateau,
}

/// <summary>When a schedule advances.</summary>
public enum SchedulerInterval
{
    /// <summary>After every optimizer step (a batch, or a group of accumulated batches).</summary>
    Batch,

    /// <summary>After every epoch.</summary>
    Epoch,
}

/// <summary>
/// The learning-rate schedule. All step counts (<see cref="StepSize"/>, <see cref="Milestones"/>, <see cref="T0"/>,
/// <see cref="TotalSteps"/>, <see cref="WarmupSteps"/>) are in units of <see cref="Interval"/>.
/// </summary>
public sealed record SchedulerOptions
{
    /// <summary>
    /// The library's defaults for a schedule of <paramref name="kind"/> over a run of <paramref name="epochs"/> epochs:
    /// OneCycle, cosine and constant step per batch; step decays ×0.1 every third of the run; warm restarts begin with a
    /// third of the run and double; the plateau schedule waits 2 validations. <paramref name="warmupSteps"/> batches (or
    /// epochs, for the per-epoch schedules) of linear warm-up go first; the plateau schedule has none.
    /// </summary>
    /// <param name="kind">The schedule.</param>
    /// <param name="epochs">The run's length in epochs (an upper bound under a time budget).</param>
    /// <param name="warmupSteps">Linear warm-up steps before the schedule.</param>
    public static SchedulerOptions For(SchedulerKind kind, int epochs, int warmupSteps = 0)
    {
        int third = Math.Max(1, epochs / 3);
        return kind switch
        {
            SchedulerKind.Constant => new SchedulerOptions { Kind = kind, WarmupSteps = warmupSteps, Interval = SchedulerInterval.Batch },
            SchedulerKind.Step => new SchedulerOptions { Kind = kind, StepSize = third, Gamma = 0.1, WarmupSteps = warmupSteps, Interval = SchedulerInterval.Epoch },
            SchedulerKind.MultiStep => new SchedulerOptions { Kind = kind, Milestones = [third, 2 * third], Gamma = 0.1, WarmupSteps = warmupSteps, Interval = SchedulerInterval.Epoch },
            SchedulerKind.Cosine => new SchedulerOptions { Kind = kind, WarmupSteps = warmupSteps, Interval = SchedulerInterval.Batch },
            SchedulerKind.CosineWarmRestarts => new SchedulerOptions { Kind = kind, T0 = third, TMult = 2, WarmupSteps = warmupSteps, Interval = SchedulerInterval.Epoch },
            SchedulerKind.OneCycle => new SchedulerOptions { Kind = kind, WarmupSteps = warmupSteps, Interval = SchedulerInterval.Batch },
            SchedulerKind.ReduceOnPlateau => new SchedulerOptions { Kind = kind, PlateauPatience = 2, Interval = SchedulerInterval.Epoch },
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, $"Unknown schedule. Valid kinds: {string.Join(", ", Enum.GetNames<SchedulerKind>())}."),
        };
    }

    /// <summary>The schedule (default constant).</summary>
    public SchedulerKind Kind { get; init; } = SchedulerKind.Constant;

    /// <summary>Whether the schedule advances per optimizer step or per epoch (default per epoch; OneCycle is usually per batch).</summary>
    public SchedulerInterval Interval { get; init; } = SchedulerInterval.Epoch;

    /// <summary>Linear warmup length before the schedule (0 = none).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>The warmup's starting multiplier (default 0.01).</summary>
    public double WarmupStartFactor { get; init; } = 0.01;

    /// <summary>Step: steps between decays (default 30).</summary>
    public int StepSize { get; init; } = 30;

    /// <summary>Step/multi-step decay factor γ (default 0.1).</summary>
    public double Gamma { get; init; } = 0.1;

    /// <summary>Multi-step milestones.</summary>
    public IReadOnlyList<int> Milestones { get; init; } = Array.Empty<int>();

    /// <summary>Cosine/OneCycle length; null = the whole run after warmup (the Trainer fills it in).</summary>
    public long? TotalSteps { get; init; }

    /// <summary>Cosine and warm restarts: the final multiplier η_min / lr (default 0).</summary>
    public double MinFactor { get; init; }

    /// <summary>Warm restarts: the first cycle length T₀ (default 10).</summary>
    public int T0 { get; init; } = 10;

    /// <summary>Warm restarts: the cycle growth factor T_mult (default 1).</summary>
    public int TMult { get; init; } = 1;

    /// <summary>OneCycle: the rising fraction (default 0.3).</summary>
    public double PctStart { get; init; } = 0.3;

    /// <summary>OneCycle: initial lr = lr / DivFactor (default 25).</summary>
    public double DivFactor { get; init; } = 25;

    /// <summary>OneCycle: final lr = initial lr / FinalDivFactor (default 1e4).</summary>
    public double FinalDivFactor { get; init; } = 1e4;

    /// <summary>Plateau: the reduction factor (default 0.1).</summary>
    public double PlateauFactor { get; init; } = 0.1;

    /// <summary>Plateau: validation checks without improvement before a reduction (default 5).</summary>
    public int PlateauPatience { get; init; } = 5;

    /// <summary>Plateau: relative improvement that counts (default 1e-4).</summary>
    public double PlateauThreshold { get; init; } = 1e-4;

    /// <summary>Plateau: checks to wait after a reduction (default 0).</summary>
    public int PlateauCooldown { get; init; }
}

/// <summary>Builds a <see cref="LearningRateScheduler"/> from <see cref="SchedulerOptions"/>.</summary>
public static class SchedulerFactory
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="options">The schedule.</param>
    /// <param name="totalSteps">The run's length in <see cref="SchedulerOptions.Interval"/> units, used when <see cref="SchedulerOptions.TotalSteps"/> is null.</param>
    /// <exception cref="ArgumentException">An option is out of range (the exception names it).</exception>
    public static LearningRateScheduler Create(SchedulerOptions? options, long totalSteps)
    {
        options ??= new SchedulerOptions();
        if (options.WarmupSteps < 0)
            throw new ArgumentOutOfRangeException($"{nameof(options)}.{nameof(SchedulerOptions.WarmupSteps)}", options.WarmupSteps, "The warmup length cannot be negative.");
        long length = options.TotalSteps ?? Math.Max(1, totalSteps - options.WarmupSteps);
        LearningRateScheduler schedule;
        try
        {
            schedule = options.Kind switch
            {
                SchedulerKind.Constant => new ConstantLR(),
                SchedulerKind.Step => new StepLR(options.StepSize, options.Gamma),
                SchedulerKind.MultiStep => new MultiStepLR(options.Milestones, options.Gamma),
                SchedulerKind.Cosine => new CosineAnnealingLR(length, options.MinFactor),
                SchedulerKind.CosineWarmRestarts => new CosineAnnealingWarmRestarts(options.T0, options.TMult, options.MinFactor),
                SchedulerKind.OneCycle => new OneCycleLR(Math.Max(2, length), options.PctStart, options.DivFactor, options.FinalDivFactor),
                SchedulerKind.ReduceOnPlateau => new ReduceLROnPlateau(options.PlateauFactor, options.PlateauPatience, options.PlateauThreshold, options.PlateauCooldown),
                _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Unknown scheduler kind."),
            };
        }
        catch (ArgumentException e) when (e.ParamName is not null && e.ParamName != nameof(options))
        {
            throw new ArgumentException($"SchedulerOptions: {e.Message}", $"{nameof(options)}.{OptionName(e.ParamName)}", e);
        }
        return options.WarmupSteps > 0 ? new LinearWarmup(schedule, options.WarmupSteps, options.WarmupStartFactor) : schedule;
    }

    private static string OptionName(string parameter) => parameter switch
    {
        "stepSize" => nameof(SchedulerOptions.StepSize),
        "gamma" => nameof(SchedulerOptions.Gamma),
        "milestones" => nameof(SchedulerOptions.Milestones),
        "totalSteps" => nameof(SchedulerOptions.TotalSteps),
        "minFactor" => nameof(SchedulerOptions.MinFactor),
        "t0" => nameof(SchedulerOptions.T0),
        "tMult" => nameof(SchedulerOptions.TMult),
        "pctStart" => nameof(SchedulerOptions.PctStart),
        "divFactor" => nameof(SchedulerOptions.DivFactor),
        "finalDivFactor" => nameof(SchedulerOptions.FinalDivFactor),
        "reduceFactor" => nameof(SchedulerOptions.PlateauFactor),
        "patience" => nameof(SchedulerOptions.PlateauPatience),
        "threshold" => nameof(SchedulerOptions.PlateauThreshold),
        "cooldown" => nameof(SchedulerOptions.PlateauCooldown),
        _ => parameter,
    };
}
