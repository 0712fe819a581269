namespace FashionVision.Training;

/// <summary>A constant learning rate (factor 1).</summary>
public sealed class ConstantLR : LearningRateScheduler
{
    /// <inheritdoc />
    public override double Factor(long step) => 1.0;

    /// <inheritdoc />
    public override string Describe() => "Constant()";
}

/// <summary>Multiplies the learning rate by γ every <see cref="StepSize"/> steps (PyTorch's StepLR).</summary>
public sealed class StepLR : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    public StepLR(int stepSize, double gamma = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        if (!(gamma > 0))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be positive.");
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>Steps between decays.</summary>
    public int StepSize { get; }

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double Factor(long step) => Math.Pow(Gamma, step / StepSize);

    /// <inheritdoc />
    public override string Describe() => $"StepLR(step_size={StepSize}, gamma={Format(Gamma)})";
}

/// <summary>Multiplies the learning rate by γ at each milestone (PyTorch's MultiStepLR).</summary>
public sealed class MultiStepLR : LearningRateScheduler
{
    private readonly int[] _milestones;

    /// <summary>Creates the schedule.</summary>
    public MultiStepLR(IEnumerable<int> milestones, double gamma = 0.1)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        _milestones = milestones.ToArray();
        if (_milestones.Length == 0 || _milestones.Any(m => m < 1))
            throw new ArgumentException("Milestones must be positive steps.", nameof(milestones));
        for (int i = 1; i < _milestones.Length; i++)
            if (_milestones[i] <= _milestones[i - 1])
                throw new ArgumentException("Milestones must be strictly increasing.", nameof(milestones));
        if (!(gamma > 0))
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "Gamma must be positive.");
        Gamma = gamma;
    }

    /// <summary>The steps at which the learning rate decays.</summary>
    public IReadOnlyList<int> Milestones => _milestones;

    /// <summary>The decay factor.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public override double Factor(long step) => Math.Pow(Gamma, _milestones.Count(m => step >= m));

    /// <inheritdoc />
    public override string Describe() => $"MultiStepLR(milestones=[{string.Join(", ", _milestones)}], gamma={Format(Gamma)})";
}

/// <summary>Cosine annealing from the base learning rate to <c>base·MinFactor</c> over <see cref="TotalSteps"/> steps (SGDR without restarts).</summary>
public sealed class CosineAnnealingLR : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="totalSteps">The length of the annealing T_max.</param>
    /// <param name="minFactor">The final multiplier (η_min / base lr), in [0, 1].</param>
    public CosineAnnealingLR(long totalSteps, double minFactor = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        if (!(minFactor >= 0 && minFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(minFactor), minFactor, "The minimum factor must be in [0, 1].");
        TotalSteps = totalSteps;
        MinFactor = minFactor;
    }

    /// <summary>The annealing length.</summary>
    public long TotalSteps { get; }

    /// <summary>The final multiplier.</summary>
    public double MinFactor { get; }

    /// <inheritdoc />
    public override double Factor(long step)
    {
        double t = Math.Min(step, TotalSteps) / (double)TotalSteps;
        return MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }

    /// <inheritdoc />
    public override string Describe() => $"CosineAnnealingLR(T_max={TotalSteps}, min_factor={Format(MinFactor)})";
}

/// <summary>
/// Cosine annealing with warm restarts (SGDR, Loshchilov and Hutter 2017): the first cycle lasts T₀ steps, each next one
/// T_mult times longer, and the learning rate jumps back to its base value at every restart. With T₀ = 10 and T_mult = 2
/// the restarts are at steps 10, 30, 70, 150, …
/// </summary>
public sealed class CosineAnnealingWarmRestarts : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="t0">The length of the first cycle.</param>
    /// <param name="tMult">The growth factor of the cycle length (≥ 1).</param>
    /// <param name="minFactor">The minimum multiplier, in [0, 1].</param>
    public CosineAnnealingWarmRestarts(int t0, int tMult = 1, double minFactor = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(t0, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tMult, 1);
        if (!(minFactor >= 0 && minFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(minFactor), minFactor, "The minimum factor must be in [0, 1].");
        T0 = t0;
        TMult = tMult;
        MinFactor = minFactor;
    }

    /// <summary>The first cycle length.</summary>
    public int T0 { get; }

    /// <summary>The cycle growth factor.</summary>
    public int TMult { get; }

    /// <summary>The minimum multiplier.</summary>
    public double MinFactor { get; }

    /// <summary>The position within the current cycle and the cycle's length at <paramref name="step"/>.</summary>
    public (long TCur, long TI) CyclePosition(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        long length = T0, start = 0;
        while (step >= start + length)
        {
            start += length;
            length *= TMult;
        }
        return (step - start, length);
    }

    /// <inheritdoc />
    public override double Factor(long step)
    {
        var (tCur, tI) = CyclePosition(step);
        return MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * tCur / tI));
    }

    /// <inheritdoc />
    public override string Describe() => $"CosineAnnealingWarmRestarts(T_0={T0}, T_mult={TMult}, min_factor={Format(MinFactor)})";
}

/// <summary>
/// The 1cycle policy (Smith and Topin 2018), PyTorch's OneCycleLR with cosine annealing: the learning rate rises from
/// max/<see cref="DivFactor"/> to the maximum (the base learning rate) over the first <see cref="PctStart"/> of the
/// steps, then anneals to max/(<see cref="DivFactor"/>·<see cref="FinalDivFactor"/>).
/// </summary>
public sealed class OneCycleLR : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    public OneCycleLR(long totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 2);
        if (!(pctStart > 0 && pctStart < 1))
            throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "PctStart must be in (0, 1).");
        if (!(divFactor >= 1))
            throw new ArgumentOutOfRangeException(nameof(divFactor), divFactor, "DivFactor must be at least 1.");
        if (!(finalDivFactor >= 1))
            throw new ArgumentOutOfRangeException(nameof(finalDivFactor), finalDivFactor, "FinalDivFactor must be at least 1.");
        TotalSteps = totalSteps;
        PctStart = pctStart;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
    }

    /// <summary>The total number of steps.</summary>
    public long TotalSteps { get; }

    /// <summary>The fraction of steps spent rising.</summary>
    public double PctStart { get; }

    /// <summary>Initial lr = max / DivFactor.</summary>
    public double DivFactor { get; }

    /// <summary>Final lr = initial / FinalDivFactor.</summary>
    public double FinalDivFactor { get; }

    /// <inheritdoc />
    public override double Factor(long step)
    {
        double initial = 1 / DivFactor, final = initial / FinalDivFactor;
        double peak = PctStart * TotalSteps - 1;
        double last = TotalSteps - 1;
        double s = Math.Min(step, last);
        static double Cos(double from, double to, double pct) => to + (from - to) / 2 * (Math.Cos(Math.PI * pct) + 1);
        return s <= peak ? Cos(initial, 1, peak <= 0 ? 1 : s / peak) : Cos(1, final, (s - peak) / (last - peak));
    }

    /// <inheritdoc />
    public override string Describe() => $"OneCycleLR(total_steps={TotalSteps}, pct_start={Format(PctStart)}, div_factor={Format(DivFactor)}, final_div_factor={Format(FinalDivFactor)})";
}

/// <summary>A linear warmup from <see cref="StartFactor"/> to 1 over <see cref="WarmupSteps"/> steps, then <see cref="Inner"/> from its step 0.</summary>
public sealed class LinearWarmup : LearningRateScheduler
{
    /// <summary>Creates the schedule.</summary>
    public LinearWarmup(LearningRateScheduler inner, int warmupSteps, double startFactor = 0.01)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(warmupSteps, 1);
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "The start factor must be in (0, 1].");
        Inner = inner;
        WarmupSteps = warmupSteps;
        StartFactor = startFactor;
    }

    /// <summary>The schedule after the warmup.</summary>
    public LearningRateScheduler Inner { get; }

    /// <summary>The warmup length.</summary>
    public int WarmupSteps { get; }

    /// <summary>The multiplier at step 0.</summary>
    public double StartFactor { get; }

    /// <inheritdoc />
    public override double Factor(long step) =>
        step < WarmupSteps
            ? (StartFactor + (1 - StartFactor) * step / WarmupSteps) * Inner.Factor(0)
            : Inner.Factor(step - WarmupSteps);

    /// <inheritdoc />
    public override void ReportMetric(double value) => Inner.ReportMetric(value);

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetState()
    {
        var state = new Dictionary<string, double>(base.GetState());
        foreach (var (k, v) in Inner.GetState())
            state["inner." + k] = v;
        return state;
    }

    /// <inheritdoc />
    public override void LoadState(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Inner.LoadState(state.Where(kv => kv.Key.StartsWith("inner.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key["inner.".Length..], kv => kv.Value));
        base.LoadState(state);
    }

    /// <inheritdoc />
    public override string Describe() => $"LinearWarmup(steps={WarmupSteps}, start_factor={Format(StartFactor)}) → {Inner.Describe()}";
}

/// <summary>
/// Multiplies the learning rate by <see cref="Factor"/> when the reported metric (lower is better, e.g. validation loss)
/// has not improved by more than a relative <see cref="Threshold"/> for more than <see cref="Patience"/> reports
/// (PyTorch's ReduceLROnPlateau, mode "min", threshold mode "rel").
/// </summary>
public sealed class ReduceLROnPlateau : LearningRateScheduler
{
    private double _best = double.PositiveInfinity;
    private int _badReports;
    private int _cooldownLeft;
    private double _factor = 1.0;

    /// <summary>Creates the schedule.</summary>
    public ReduceLROnPlateau(double reduceFactor = 0.1, int patience = 10, double threshold = 1e-4, int cooldown = 0, double minFactor = 0)
    {
        if (!(reduceFactor > 0 && reduceFactor < 1))
            throw new ArgumentOutOfRangeException(nameof(reduceFactor), reduceFactor, "The reduce factor must be in (0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(patience);
        ArgumentOutOfRangeException.ThrowIfNegative(cooldown);
        if (!(threshold >= 0))
            throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "The threshold must be non-negative.");
        ReduceFactor = reduceFactor;
        Patience = patience;
        Threshold = threshold;
        Cooldown = cooldown;
        MinFactor = minFactor;
    }

    /// <summary>The multiplier applied at each reduction.</summary>
    public double ReduceFactor { get; }

    /// <summary>Reports without improvement tolerated before a reduction.</summary>
    public int Patience { get; }

    /// <summary>The relative improvement that counts.</summary>
    public double Threshold { get; }

    /// <summary>Reports to wait after a reduction before counting again.</summary>
    public int Cooldown { get; }

    /// <summary>The smallest multiplier.</summary>
    public double MinFactor { get; }

    /// <inheritdoc />
    public override double Factor(long step) => _factor;

    /// <inheritdoc />
    public override void ReportMetric(double value)
    {
        if (double.IsNaN(value))
            return;
        if (value < _best * (1 - Threshold))
        {
            _best = value;
            _badReports = 0;
        }
        else
        {
            _badReports++;
        }
        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _badReports = 0;
        }
        if (_badReports > Patience)
        {
            _factor = Math.Max(_factor * ReduceFactor, MinFactor);
            _cooldownLeft = Cooldown;
            _badReports = 0;
        }
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double>(base.GetState())
    {
        ["best"] = _best,
        ["bad_reports"] = _badReports,
        ["cooldown_left"] = _cooldownLeft,
        ["factor"] = _factor,
    };

    /// <inheritdoc />
    public override void LoadState(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _best = state.GetValueOrDefault("best", double.PositiveInfinity);
        _badReports = (int)state.GetValueOrDefault("bad_reports", 0);
        _cooldownLeft = (int)state.GetValueOrDefault("cooldown_left", 0);
        _factor = state.GetValueOrDefault("factor", 1.0);
        base.LoadState(state);
    }

    /// <inheritdoc />
    public override string Describe() => $"ReduceLROnPlateau(factor={Format(ReduceFactor)}, patience={Patience}, threshold={Format(Threshold)}, cooldown={Cooldown})";
}
