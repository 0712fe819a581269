using Microsoft.Extensions.Logging;

namespace FashionVision.Training;

/// <summary>
/// The run's <see cref="TimeBudget"/> as a callback (Lightning's <c>Timer</c>): it owns the budget's clock and state, lays
/// the schedule over the time after every optimizer step, and asks the loop to stop after the batch that spends the budget.
/// The Trainer registers it when <see cref="TrainerOptions.TimeBudget"/> is set, right after <see cref="TerminateOnNaN"/>, so
/// every later callback sees the learning rate it set.
/// </summary>
internal sealed class TimeBudgetCallback(TimeBudget budget, TimeProvider time) : TrainerCallback
{
    private BudgetClock? _clock;

    /// <inheritdoc />
    public override string StateKey => "TimeBudget";

    /// <summary>The budget.</summary>
    public TimeBudget Budget => budget;

    /// <summary>The clock of the current run (null before it starts).</summary>
    internal BudgetClock? Clock => _clock;

    /// <summary>The one reason the history records when the budget ends a run.</summary>
    public string SpentReason => $"the time budget of {budget.Total.TotalSeconds:0.#} s is spent";

    /// <summary>Starts the clock (unless a checkpoint continued it), measures the evaluation's cost and reserves it.</summary>
    /// <exception cref="TimeBudgetTooShortException">Nothing is left to train after the reserve and the margin.</exception>
    public override void OnFitStart(Trainer trainer)
    {
        _clock ??= new BudgetClock(budget, time);
        if (budget.ReserveForImages > 0)
        {
            double perImage = EvaluationCostProbe.SecondsPerImage(trainer, budget.ReserveForImages);
            _clock.Reserve(perImage * budget.ReserveForImages);
            trainer.Logger.LogInformation("Time budget {Budget:0.#} s: {Reserve:0.##} s reserved for evaluating {Images} images ({PerImage:0.###} ms each, measured), {Margin:0.##} s margin, {Left:0.##} s left for training.",
                budget.Total.TotalSeconds, _clock.ReserveSeconds, budget.ReserveForImages, perImage * 1000, budget.Margin.TotalSeconds, _clock.AvailableSeconds - _clock.ElapsedSeconds);
        }
        double left = _clock.AvailableSeconds - _clock.ElapsedSeconds;
        if (left <= 0 && trainer.GlobalStep == 0)
            throw TooShort(trainer, left);
        if (left <= 0 || _clock.IsSpent)
            trainer.RequestStop(SpentReason, afterCurrentBatch: true);
    }

    /// <inheritdoc />
    public override void OnEpochStart(Trainer trainer, int epoch) => _clock?.RestartInterval();

    /// <summary>Moves the schedule to the run's progress and stops the run when the budget is spent.</summary>
    /// <exception cref="TimeBudgetTooShortException">The deadline came before training had passed its warm-up.</exception>
    public override void OnAfterOptimizerStep(Trainer trainer)
    {
        double fraction = _clock!.StepEnded();
        // The schedule's position follows the time used when that is ahead of the step count.
        trainer.Scheduler!.AdvanceTo((long)Math.Floor(fraction * trainer.ScheduleLength));
        if (!_clock.IsSpent)
            return;
        if (trainer.GlobalStep < BudgetClock.WarmupSteps + BudgetClock.SettleSteps)
            throw TooShort(trainer, _clock.AvailableSeconds);
        trainer.RequestStop(SpentReason, afterCurrentBatch: true);
    }

    private TimeBudgetTooShortException TooShort(Trainer trainer, double leftSeconds) =>
        new(budget.Total, TimeSpan.FromSeconds(_clock!.ReserveSeconds), budget.Margin, TimeSpan.FromSeconds(leftSeconds), trainer.GlobalStep);

    /// <inheritdoc />
    public override void OnSaveCheckpoint(Trainer trainer, CallbackState state)
    {
        if (_clock is null)
            return;
        foreach (var (key, value) in _clock.GetState())
            state.Values[key] = value;
    }

    /// <inheritdoc />
    public override void OnLoadCheckpoint(Trainer trainer, CallbackState state) =>
        _clock = BudgetClock.Restore(budget, time, state.Values, trainer.Options.ResumeFrom ?? "(memory)");
}
