using TorchSharp;

namespace FashionVision.Training;

/// <summary>
/// A learning-rate schedule over steps (batches or epochs, as <see cref="SchedulerOptions.Interval"/> says): each
/// parameter group's learning rate is its base learning rate times <see cref="Factor"/> of the current step.
/// </summary>
/// <remarks>
/// <para>Schedules are pure functions of the step count (plus, for <see cref="ReduceLROnPlateau"/>, the metrics
/// reported so far), so their state is a few numbers (<see cref="GetState"/>) that checkpoints store. Scaling base
/// learning rates keeps per-layer learning rates in proportion.</para>
/// </remarks>
public abstract class LearningRateScheduler
{
    private double[]? _baseLearningRates;
    private torch.optim.Optimizer? _optimizer;

    /// <summary>Steps taken so far (the schedule is at step <see cref="StepCount"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>The learning-rate multiplier at <paramref name="step"/> (0-based).</summary>
    public abstract double Factor(long step);

    /// <summary>The multiplier at the current step.</summary>
    public double CurrentFactor => Factor(StepCount);

    /// <summary>Attaches the schedule to a freshly built optimizer: records each group's current learning rate as its base and applies step <see cref="StepCount"/>.</summary>
    public void Attach(torch.optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        _optimizer = optimizer;
        _baseLearningRates = optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();
        Apply();
    }

    /// <summary>The base learning rates of the attached optimizer's groups.</summary>
    public IReadOnlyList<double> BaseLearningRates => _baseLearningRates ?? Array.Empty<double>();

    /// <summary>The learning rate of the first group now.</summary>
    public double CurrentLearningRate => _optimizer?.ParamGroups.First().LearningRate ?? double.NaN;

    /// <summary>Advances one step and sets the optimizer's learning rates.</summary>
    public void Step()
    {
        StepCount++;
        Apply();
    }

    /// <summary>Moves the schedule forward to <paramref name="step"/> (never back) and sets the optimizer's learning rates; a time-budgeted run places the schedule by elapsed time this way.</summary>
    public void AdvanceTo(long step)
    {
        if (step <= StepCount)
            return;
        StepCount = step;
        Apply();
    }

    /// <summary>Reports a validation metric (lower is better); only <see cref="ReduceLROnPlateau"/> uses it.</summary>
    public virtual void ReportMetric(double value)
    {
    }

    /// <summary>The schedule's state as named numbers.</summary>
    public virtual IReadOnlyDictionary<string, double> GetState() => new Dictionary<string, double> { ["step"] = StepCount };

    /// <summary>Restores what <see cref="GetState"/> returned and re-applies the learning rates.</summary>
    public virtual void LoadState(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue("step", out var step) || step < 0)
            throw new ArgumentException("The scheduler state has no valid 'step'.", nameof(state));
        StepCount = (long)step;
        if (_optimizer is not null)
            Apply();
    }

    /// <summary>A readable one-line description.</summary>
    public abstract string Describe();

    /// <inheritdoc />
    public override string ToString() => Describe();

    private void Apply()
    {
        if (_optimizer is null || _baseLearningRates is null)
            return;
        double factor = Factor(StepCount);
        int i = 0;
        foreach (var group in _optimizer.ParamGroups)
            group.LearningRate = _baseLearningRates[i++] * factor;
    }

    internal static string Format(double value) => value.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture);
}
