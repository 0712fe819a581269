using System.Globalization;
using System.Text;

namespace FashionVision.Training;

/// <summary>One training run of an ablation step.</summary>
/// <param name="Seed">The run's seed (initial weights, data order, augmentation).</param>
/// <param name="Accuracy">Test accuracy in [0, 1].</param>
/// <param name="MacroF1">Test macro-averaged F1.</param>
/// <param name="TrainingTime">Wall time of the training (<see cref="TrainingHistory.TotalTime"/>).</param>
public sealed record AblationRun(long Seed, double Accuracy, double MacroF1, TimeSpan TrainingTime);

/// <summary>One row of an ablation table: a cumulative step and its runs over the plan's seeds.</summary>
/// <param name="Step">0 for the baseline, then 1, 2, … in plan order.</param>
/// <param name="Name">The step's name (<c>baseline</c> for row 0).</param>
/// <param name="Change">What the step changes, or null.</param>
/// <param name="Settings">The cumulative settings the step trained with.</param>
/// <param name="Runs">One run per seed.</param>
public sealed record AblationRow(int Step, string Name, string? Change, RunSpec Settings, IReadOnlyList<AblationRun> Runs)
{
    /// <summary>The mean test accuracy over the seeds.</summary>
    public double MeanAccuracy => Runs.Average(r => r.Accuracy);

    /// <summary>The sample standard deviation of the accuracy over the seeds (0 with one seed).</summary>
    public double AccuracySpread => StandardDeviation(Runs.Select(r => r.Accuracy).ToArray());

    /// <summary>The mean macro F1 over the seeds.</summary>
    public double MeanMacroF1 => Runs.Average(r => r.MacroF1);

    /// <summary>The mean training wall time over the seeds.</summary>
    public TimeSpan MeanTrainingTime => TimeSpan.FromTicks((long)Runs.Average(r => r.TrainingTime.Ticks));

    /// <summary>Mean accuracy minus the previous row's (null for the baseline).</summary>
    public double? DeltaFromPrevious { get; init; }

    /// <summary>Mean accuracy minus the baseline's (null for the baseline).</summary>
    public double? DeltaFromBaseline { get; init; }

    private static double StandardDeviation(double[] values)
    {
        if (values.Length < 2)
            return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}

/// <summary>What <see cref="AblationRunner.Run"/> measured: one row per cumulative step, with deltas, as a Markdown table.</summary>
public sealed class AblationResult
{
    /// <summary>Builds the result and fills in each row's deltas.</summary>
    /// <param name="name">The ablation's title.</param>
    /// <param name="seeds">The seeds every step ran with.</param>
    /// <param name="rows">The rows, baseline first.</param>
    /// <exception cref="ArgumentException">There are no rows, or a row has no runs.</exception>
    public AblationResult(string name, IReadOnlyList<long> seeds, IReadOnlyList<AblationRow> rows)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
            throw new ArgumentException("An ablation result needs at least the baseline row.", nameof(rows));
        if (rows.Any(r => r.Runs.Count == 0))
            throw new ArgumentException("Every ablation row needs at least one run.", nameof(rows));
        Name = name ?? "ablation";
        Seeds = seeds.ToArray();
        var filled = new List<AblationRow>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
            filled.Add(i == 0
                ? rows[0] with { DeltaFromPrevious = null, DeltaFromBaseline = null }
                : rows[i] with { DeltaFromPrevious = rows[i].MeanAccuracy - rows[i - 1].MeanAccuracy, DeltaFromBaseline = rows[i].MeanAccuracy - rows[0].MeanAccuracy });
        Rows = filled;
    }

    /// <summary>The ablation's title.</summary>
    public string Name { get; }

    /// <summary>The seeds every step ran with.</summary>
    public IReadOnlyList<long> Seeds { get; }

    /// <summary>The rows, baseline first.</summary>
    public IReadOnlyList<AblationRow> Rows { get; }

    /// <summary>
    /// A Markdown table: step, change, test accuracy (mean ± standard deviation over the seeds, in %), delta to the previous
    /// step and to the baseline (percentage points), macro F1, and mean training time in seconds.
    /// </summary>
    public string ToMarkdown()
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(ci, $"| step | change | test accuracy ({(Seeds.Count == 1 ? "1 seed" : $"mean ± sd, {Seeds.Count} seeds")}) | Δ previous (pp) | Δ baseline (pp) | macro F1 | training time (s) |\n");
        md.Append("| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
        foreach (var row in Rows)
        {
            string accuracy = Seeds.Count == 1 ? $"{row.MeanAccuracy * 100:0.00}%" : $"{row.MeanAccuracy * 100:0.00}% ± {row.AccuracySpread * 100:0.00}";
            string change = row.Change is null ? row.Name : $"{row.Name} (`{row.Change}`)";
            md.Append(ci, $"| {row.Step} | {change} | {accuracy} | {Delta(row.DeltaFromPrevious)} | {Delta(row.DeltaFromBaseline)} | {row.MeanMacroF1:0.0000} | {row.MeanTrainingTime.TotalSeconds:0.0} |\n");
        }
        return md.ToString();

        static string Delta(double? value) => value is { } v ? (v * 100).ToString("+0.00;−0.00;0.00", CultureInfo.InvariantCulture) : "—";
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Rows.Count} rows × {Seeds.Count} seed(s)";
}
