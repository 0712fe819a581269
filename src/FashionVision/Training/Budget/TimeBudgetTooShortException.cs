using System.Globalization;

namespace FashionVision.Training;

/// <summary>
/// Thrown by <see cref="Trainer.Fit"/> when a <see cref="TimeBudget"/> leaves no time to train: the evaluation reserve and
/// the margin take what is left of the budget, or the deadline comes before training has passed its warm-up. The message
/// names the budget, the reserve and what was left, so the caller can lengthen the budget or reserve fewer images.
/// </summary>
public sealed class TimeBudgetTooShortException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="budget">The budget's total length.</param>
    /// <param name="reserve">The time reserved for the evaluation after training (measured).</param>
    /// <param name="margin">The budget's margin.</param>
    /// <param name="left">The time left for training when the budget was found too short (zero or less when nothing was left).</param>
    /// <param name="stepsTrained">Optimizer steps taken when the budget ran out.</param>
    public TimeBudgetTooShortException(TimeSpan budget, TimeSpan reserve, TimeSpan margin, TimeSpan left, long stepsTrained)
        : base(Describe(budget, reserve, margin, left, stepsTrained))
    {
        Budget = budget;
        Reserve = reserve;
        Margin = margin;
        Left = left;
        StepsTrained = stepsTrained;
    }

    /// <summary>The budget's total length.</summary>
    public TimeSpan Budget { get; }

    /// <summary>The time reserved for the evaluation after training.</summary>
    public TimeSpan Reserve { get; }

    /// <summary>The budget's margin.</summary>
    public TimeSpan Margin { get; }

    /// <summary>The time that was left for training.</summary>
    public TimeSpan Left { get; }

    /// <summary>Optimizer steps taken before the budget ran out.</summary>
    public long StepsTrained { get; }

    private static string Describe(TimeSpan budget, TimeSpan reserve, TimeSpan margin, TimeSpan left, long steps)
    {
        var ci = CultureInfo.InvariantCulture;
        string head = string.Create(ci, $"The time budget of {budget.TotalSeconds:0.##} s is too short to train: ");
        string body = steps == 0
            ? string.Create(ci, $"after the {reserve.TotalSeconds:0.##} s reserved for the evaluation and the {margin.TotalSeconds:0.##} s margin, {Math.Max(0, left.TotalSeconds):0.##} s are left for training. ")
            : string.Create(ci, $"after the {reserve.TotalSeconds:0.##} s reserved for the evaluation and the {margin.TotalSeconds:0.##} s margin, the {left.TotalSeconds:0.##} s left for training ran out after {steps} steps, before the training rate had settled. ");
        return head + body + "Give it more time, reserve fewer images (TimeBudget.ReserveForImages), or train a smaller model.";
    }
}
