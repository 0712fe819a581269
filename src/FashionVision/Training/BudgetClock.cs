namespace FashionVision.Training;

/// <summary>
/// The trainer's view of a <see cref="TimeBudget"/>: how much of the training window has been used, as a fraction that
/// never decreases, and the state a checkpoint needs to continue it.
/// </summary>
internal sealed class BudgetClock
{
    private readonly TimeProvider _time;
    private readonly TimeBudget _budget;
    private long _segmentStart;
    private double _elapsedBefore;

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

    /// <summary>Seconds from the start of training to the deadline (before the evaluation reserve).</summary>
    public double WindowSeconds { get; private set; }

    /// <summary>The fraction of the window used so far, in [0, 1] (1 = stop).</summary>
    public double Fraction { get; private set; }

    /// <summary>Seconds of training used so far, this segment and the ones before a resume.</summary>
    public double ElapsedSeconds => _elapsedBefore + _time.GetElapsedTime(_segmentStart).TotalSeconds;

    /// <summary>Whether the budget is used up.</summary>
    public bool IsSpent => Fraction >= 1;

    /// <summary>Updates <see cref="Fraction"/> after <paramref name="imagesTrained"/> training images in all.</summary>
    public double Update(long imagesTrained)
    {
        double elapsed = ElapsedSeconds;
        double reserve = imagesTrained > 0 && _budget.ReserveForImages > 0
            ? elapsed / imagesTrained * _budget.ForwardCostRatio * _budget.ReserveForImages
            : 0;
        double available = WindowSeconds - reserve - _budget.Margin.TotalSeconds;
        double fraction = available <= 0 ? 1 : Math.Min(1, elapsed / available);
        Fraction = Math.Max(Fraction, fraction);
        return Fraction;
    }

    /// <summary>The state a checkpoint stores.</summary>
    public IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double>
    {
        ["budget.window"] = WindowSeconds,
        ["budget.elapsed"] = ElapsedSeconds,
        ["budget.fraction"] = Fraction,
    };

    /// <summary>Continues a budget from a checkpoint's state: the window and the time already used come from it.</summary>
    public void Restore(IReadOnlyDictionary<string, double> state, string path)
    {
        if (!state.TryGetValue("budget.window", out var window) || !state.TryGetValue("budget.elapsed", out var elapsed) || !state.TryGetValue("budget.fraction", out var fraction))
            throw new ArgumentException($"The checkpoint '{path}' was written by a run without a time budget, so a budgeted run cannot resume from it.", nameof(TrainerOptions.ResumeFrom));
        WindowSeconds = window;
        _elapsedBefore = elapsed;
        Fraction = fraction;
        _segmentStart = _time.GetTimestamp();
    }
}
