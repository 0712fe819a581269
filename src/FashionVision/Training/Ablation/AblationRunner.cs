using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>Where an ablation runs and whom it tells.</summary>
public sealed record AblationRunOptions
{
    /// <summary>The device (default CPU).</summary>
    public Device? Device { get; init; }

    /// <summary>Where the runner and its trainers log (default none).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Receives the training progress of every run, and each finished run.</summary>
    public IProgress<AblationProgress>? Progress { get; init; }
}

/// <summary>Progress of an ablation.</summary>
/// <param name="Step">The row being trained (0 = baseline).</param>
/// <param name="Steps">The number of rows.</param>
/// <param name="Name">The row's name.</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Training">The trainer's report while it runs; null in the report of a finished run.</param>
/// <param name="Completed">The finished run; null while training.</param>
public sealed record AblationProgress(int Step, int Steps, string Name, long Seed, TrainingProgress? Training, AblationRun? Completed);

/// <summary>
/// Runs an <see cref="AblationPlan"/>: the baseline and every cumulative step, each trained once per seed from a fresh zoo
/// model and evaluated on the test set, into an <see cref="AblationResult"/> (Markdown table; the Visualization package
/// draws its bar chart).
/// </summary>
/// <example>
/// <code>
/// var plan = AblationPlan.Load("plan.json");
/// var result = AblationRunner.Run(plan, train, test);
/// Console.WriteLine(result.ToMarkdown());
/// </code>
/// </example>
public static class AblationRunner
{
    /// <summary>Trains and evaluates every step of <paramref name="plan"/> with every seed.</summary>
    /// <param name="plan">The plan (validated first).</param>
    /// <param name="train">The training set.</param>
    /// <param name="test">The test set the accuracy is measured on.</param>
    /// <param name="options">Device, logging and progress; null for the defaults.</param>
    /// <param name="cancellationToken">Stops between batches.</param>
    /// <exception cref="ArgumentException">The plan is invalid, or the datasets do not match.</exception>
    public static AblationResult Run(AblationPlan plan, InMemoryDataset train, InMemoryDataset test, AblationRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options ??= new AblationRunOptions();
        plan.Validate();
        if (!test.ClassNames.SequenceEqual(train.ClassNames))
            throw new ArgumentException("The test set's class names differ from the training set's.", nameof(test));
        var logger = options.Logger ?? NullLogger.Instance;
        var steps = plan.CumulativeSettings();
        var rows = new List<AblationRow>(steps.Count);
        for (int step = 0; step < steps.Count; step++)
        {
            var (name, change, settings) = steps[step];
            var runs = new List<AblationRun>(plan.Seeds.Count);
            foreach (long seed in plan.Seeds)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var run = TrainOnce(settings, seed, train, test, options, new StepProgress(options.Progress, step, steps.Count, name, seed), cancellationToken);
                runs.Add(run);
                logger.LogInformation("Ablation step {Step}/{Steps} '{Name}', seed {Seed}: test accuracy {Accuracy:P2} after {Seconds:0.0} s of training.",
                    step, steps.Count - 1, name, seed, run.Accuracy, run.TrainingTime.TotalSeconds);
                options.Progress?.Report(new AblationProgress(step, steps.Count, name, seed, null, run));
            }
            rows.Add(new AblationRow(step, name, change, settings, runs));
        }
        return new AblationResult(plan.Name, plan.Seeds, rows);
    }

    private static AblationRun TrainOnce(RunSpec settings, long seed, InMemoryDataset train, InMemoryDataset test, AblationRunOptions options,
        IProgress<TrainingProgress> progress, CancellationToken cancellationToken)
    {
        var spec = settings with { Training = settings.Training with { Seed = seed }, Output = new OutputSpec() };
        using var run = TrainingRun.Execute(spec, train, test, new TrainingRunOptions { Device = options.Device, Logger = options.Logger, Progress = progress }, cancellationToken);
        return new AblationRun(seed, run.Evaluation.Accuracy, run.Evaluation.MacroAverage.F1, run.History.TotalTime);
    }

    /// <summary>Forwards a run's training progress with the step and seed.</summary>
    private sealed class StepProgress(IProgress<AblationProgress>? target, int step, int steps, string name, long seed) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => target?.Report(new AblationProgress(step, steps, name, seed, value, null));
    }
}
