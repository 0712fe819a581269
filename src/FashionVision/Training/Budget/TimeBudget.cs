namespace FashionVision.Training;

/// <summary>
/// A wall-clock budget for a training run: the learning-rate schedule is laid over the time, not over a step count, so the
/// run anneals to the end of its schedule at the deadline and returns a finished model.
/// </summary>
/// <remarks>
/// <para>The run's progress is <c>max(steps / total steps, elapsed / available time)</c>; every schedule (OneCycle, cosine,
/// warm restarts, step) reads its position from that progress, so it needs no schedule of its own. Training stops when the
/// progress reaches 1, in the middle of an epoch if need be; <see cref="TrainerOptions.Epochs"/> stays an upper bound.</para>
/// <para>Everything that happens inside <see cref="Trainer.Fit"/> counts: validation passes, checkpoints, callbacks. What
/// happens before it (process start-up, loading data) counts when <see cref="StartedAt"/> is set to when the budget began
/// (for a whole process, <c>Process.GetCurrentProcess().StartTime</c>). What happens after it (the final test evaluation)
/// is reserved with <see cref="ReserveForImages"/>: when the run starts, the trainer times forward passes of the model as
/// the evaluation will run them (eval mode, no gradients, <see cref="TrainerOptions.EvaluationBatchSize"/> images a batch,
/// the precision the model has after <see cref="Trainer.Fit"/>), after one warm-up batch, and keeps back that many images'
/// worth of them.</para>
/// <para>The training rate is measured too, after the first steps (which pay for warm-up): once it has settled, the run
/// also stops when the next step would end past the deadline. Before that only the deadline itself stops it. A budget that
/// leaves no time to train, or runs out before the rate has settled, ends <see cref="Trainer.Fit"/> with
/// <see cref="TimeBudgetTooShortException"/>.</para>
/// <para>A run resumed from a checkpoint continues with the time that was left when the checkpoint was written; it
/// measures the evaluation cost again on the machine it runs on.</para>
/// </remarks>
/// <param name="Total">The whole budget, from <see cref="StartedAt"/> (or the start of <see cref="Trainer.Fit"/>) to the moment the caller expects the finished model and its evaluation.</param>
public sealed record TimeBudget(TimeSpan Total)
{
    /// <summary>When the budget began (null: when <see cref="Trainer.Fit"/> starts).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Forward passes the caller will run after training inside the budget (e.g. the test set times its test-time-augmentation views); default 0.</summary>
    public long ReserveForImages { get; init; }

    /// <summary>
    /// Time kept back at the end for what neither training nor <see cref="ReserveForImages"/> counts: printing the result,
    /// writing files, the process's exit (default zero).
    /// </summary>
    public TimeSpan Margin { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the field at fault.</summary>
    public void Validate()
    {
        if (Total <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(Total), Total, "TimeBudget.Total must be positive.");
        if (ReserveForImages < 0)
            throw new ArgumentOutOfRangeException(nameof(ReserveForImages), ReserveForImages, "TimeBudget.ReserveForImages cannot be negative.");
        if (Margin < TimeSpan.Zero || Margin >= Total)
            throw new ArgumentOutOfRangeException(nameof(Margin), Margin, "TimeBudget.Margin must be zero or more and less than the budget.");
    }

    /// <summary>Parses a duration as the command line writes it: <c>90</c> or <c>90s</c>, <c>2m</c>, <c>1h30m</c>, <c>1.5h</c>, or <c>00:01:30</c>.</summary>
    /// <exception cref="FormatException">The text is not a positive duration.</exception>
    public static TimeSpan ParseDuration(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim().ToLowerInvariant();
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        TimeSpan result;
        if (s.Contains(':'))
        {
            if (!TimeSpan.TryParse(s, inv, out result))
                throw new FormatException($"'{text}' is not a duration (e.g. 60s, 2m, 1h30m, 00:01:30).");
        }
        else
        {
            result = TimeSpan.Zero;
            int i = 0;
            bool any = false;
            while (i < s.Length)
            {
                int start = i;
                while (i < s.Length && (char.IsDigit(s[i]) || s[i] == '.'))
                    i++;
                if (start == i || !double.TryParse(s[start..i], System.Globalization.NumberStyles.Float, inv, out double value))
                    throw new FormatException($"'{text}' is not a duration (e.g. 60s, 2m, 1h30m, 00:01:30).");
                int unitStart = i;
                while (i < s.Length && char.IsLetter(s[i]))
                    i++;
                result += s[unitStart..i] switch
                {
                    "" or "s" or "sec" => TimeSpan.FromSeconds(value),
                    "ms" => TimeSpan.FromMilliseconds(value),
                    "m" or "min" => TimeSpan.FromMinutes(value),
                    "h" => TimeSpan.FromHours(value),
                    _ => throw new FormatException($"'{text}' has an unknown unit '{s[unitStart..i]}' (use ms, s, m or h)."),
                };
                any = true;
            }
            if (!any)
                throw new FormatException($"'{text}' is not a duration (e.g. 60s, 2m, 1h30m, 00:01:30).");
        }
        if (result <= TimeSpan.Zero)
            throw new FormatException($"'{text}' is not a positive duration.");
        return result;
    }
}
