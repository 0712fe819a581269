namespace FashionVision.Training;

/// <summary>
/// The arithmetic of a <see cref="TimeBudget"/>: the window from the start of training to the deadline, the time reserved
/// for the evaluation after it, the time used, the training rate measured after warm-up, and the fraction of the available
/// time used (1 = stop), which never decreases.
/// </summary>
/// <remarks>
/// <para>Available time = window − evaluation reserve − margin. After every optimizer step the fraction is
/// <c>elapsed / available</c>; it is 1 at the deadline, or earlier once the step time has settled and the next step would
/// end past the deadline.</para>
/// <para>Step times are the intervals between optimizer steps within an epoch (the time between epochs, validation and
/// checkpoints, is not a step's). The first <see cref="WarmupSteps"/> of every segment (a fresh run, or a resumed one in
/// a new process) pay for warm-up and are ignored; after <see cref="SettleSteps"/> more the rate is trusted. The estimate
/// is a moving average, and the prediction takes the larger of it and the last step, so a sudden slowdown counts at once.</para>
/// </remarks>
internal sealed class BudgetClock
{
    /// <summary>Steps at the start of a segment whose time says nothing about the rate (allocation, kernel selection, caches).</summary>
    internal const int WarmupSteps = 2;

    /// <summary>Steps timed after the warm-up before the rate is trusted.</summary>
    internal const int SettleSteps = 3;

    private const double Smoothing = 0.3;

    private readonly TimeProvider _time;
    private readonly TimeBudget _budget;
    private long _segmentStart;
    private double _elapsedBefore;
    private long? _intervalStart;
    private int _stepsTimed;
    private double? _averageStep;
    private double _lastStep;

    /// <summary>Starts the budget now: its window runs from now to <see cref="TimeBudget.StartedAt"/> + total.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The deadline has already passed.</exception>
    public BudgetClock(TimeBudget budget, TimeProvider time)
    {
        _budget = budget;
        _time = time;
        var now = time.GetUtcNow();
        var origin = budget.StartedAt ?? now;
        WindowSeconds = (origin + budget.Total - now).TotalSeconds;
        if (WindowSeconds <= 0)
            throw new ArgumentOutOfRangeException("TimeBudget", budget.Total, $"TimeBudget: the budget of {budget.Total.TotalSeconds:0.#} s, started at {origin:O}, is already spent when training starts.");
        _segmentStart = time.GetTimestamp();
    }

    private BudgetClock(TimeBudget budget, TimeProvider time, double window, double elapsed, double fraction)
    {
        _budget = budget;
        _time = time;
        WindowSeconds = window;
        _elapsedBefore = elapsed;
        Fraction = fraction;
        _segmentStart = time.GetTimestamp();
    }

    /// <summary>Seconds from the start of training to the deadline.</summary>
    public double WindowSeconds { get; }

    /// <summary>Seconds kept back for the evaluation after training.</summary>
    public double ReserveSeconds { get; private set; }

    /// <summary>Seconds the training may use: the window less the evaluation reserve and the margin.</summary>
    public double AvailableSeconds => WindowSeconds - ReserveSeconds - _budget.Margin.TotalSeconds;

    /// <summary>The fraction of <see cref="AvailableSeconds"/> used so far, in [0, 1] (1 = stop).</summary>
    public double Fraction { get; private set; }

    /// <summary>Seconds of training used so far, this segment and the ones before a resume.</summary>
    public double ElapsedSeconds => _elapsedBefore + _time.GetElapsedTime(_segmentStart).TotalSeconds;

    /// <summary>Whether the budget is used up.</summary>
    public bool IsSpent => Fraction >= 1;

    /// <summary>The time one step takes once the rate has settled (the larger of the moving average and the last step); null before.</summary>
    public double? StepSeconds => _stepsTimed >= WarmupSteps + SettleSteps && _averageStep is { } average ? Math.Max(average, _lastStep) : null;

    /// <summary>Keeps <paramref name="seconds"/> back for the evaluation after training.</summary>
    public void Reserve(double seconds) => ReserveSeconds = Math.Max(0, seconds);

    /// <summary>Starts the next step's interval now (at the start of an epoch, so the time between epochs is no step's).</summary>
    public void RestartInterval() => _intervalStart = _time.GetTimestamp();

    /// <summary>Records an optimizer step that ended now and updates <see cref="Fraction"/>.</summary>
    public double StepEnded()
    {
        long now = _time.GetTimestamp();
        if (_intervalStart is { } start)
        {
            _stepsTimed++;
            if (_stepsTimed > WarmupSteps)
            {
                _lastStep = _time.GetElapsedTime(start, now).TotalSeconds;
                _averageStep = _averageStep is { } average ? average + Smoothing * (_lastStep - average) : _lastStep;
            }
        }
        _intervalStart = now;

        double elapsed = ElapsedSeconds, available = AvailableSeconds;
        double fraction = available <= 0 ? 1 : Math.Min(1, elapsed / available);
        // Once the rate is known, a step that would end past the deadline is not begun.
        if (StepSeconds is { } step && elapsed + step > available + 1e-9)
            fraction = 1;
        Fraction = Math.Max(Fraction, fraction);
        return Fraction;
    }

    /// <summary>The state a checkpoint stores.</summary>
    public IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double>
    {
        ["budget.window"] = WindowSeconds,
        ["budget.elapsed"] = ElapsedSeconds,
        ["budget.fraction"] = Fraction,
        ["budget.reserve"] = ReserveSeconds,
    };

    /// <summary>Continues a budget from a checkpoint's state: the window, the time already used and the fraction come from it; the rate is measured again.</summary>
    /// <exception cref="ArgumentException">The state is not a budget's (the checkpoint's run had none).</exception>
    public static BudgetClock Restore(TimeBudget budget, TimeProvider time, IReadOnlyDictionary<string, double> state, string path)
    {
        if (!state.TryGetValue("budget.window", out var window) || !state.TryGetValue("budget.elapsed", out var elapsed) || !state.TryGetValue("budget.fraction", out var fraction))
            throw new ArgumentException($"The checkpoint '{path}' was written by a run without a time budget, so a budgeted run cannot resume from it.", nameof(TrainerOptions.ResumeFrom));
        return new BudgetClock(budget, time, window, elapsed, fraction);
    }
}
