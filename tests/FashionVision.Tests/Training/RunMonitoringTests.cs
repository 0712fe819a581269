using FashionVision.Tests.Shared;
using FashionVision.Training;
using Microsoft.Extensions.Logging;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

/// <summary>The callbacks that watch a run: per-step history, the overfitting warning, TensorBoard scalars, the validation confusion matrix.</summary>
public class RunMonitoringTests : WithTempDirectory
{
    /// <summary>Keeps every log entry at Warning and above.</summary>
    private sealed class WarningSink : ILogger
    {
        public List<string> Warnings { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                Warnings.Add(formatter(state, exception));
        }
    }

    private static TrainerOptions Short(int epochs, params TrainerCallback[] callbacks) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        Seed = 5,
        Optimizer = new OptimizerOptions { LearningRate = 0.02 },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
        Callbacks = callbacks,
    };

    [Test]
    public void StepHistoryRecordsEveryBatchOnAnEpochAxis()
    {
        using var train = Bars(96);
        using var model = new TinyNet();
        var steps = new StepHistory();
        using var trainer = new Trainer(model, Short(2, steps));
        var history = trainer.Fit(train);

        Assert.Multiple(() =>
        {
            Assert.That(steps.Steps, Has.Count.EqualTo(12), "6 batches of 16 per epoch, 2 epochs");
            Assert.That(steps.Steps.Select(s => s.EpochProgress), Is.EqualTo(Enumerable.Range(1, 12).Select(i => i / 6.0)).Within(1e-12));
            Assert.That(steps.Steps.Select(s => s.GlobalStep), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (long)i)));
            Assert.That(steps.Steps.Take(6).Average(s => s.Loss), Is.EqualTo(history.Epochs[0].TrainLoss).Within(1e-6), "the epoch loss is the mean of its batches");
            Assert.That(steps.Steps.Select(s => s.LearningRate).Distinct().Count(), Is.GreaterThan(6), "one-cycle changes the rate every batch");
        });
    }

    [Test]
    public void StepHistorySurvivesAResume()
    {
        using var train = Bars(96);
        var uninterrupted = new StepHistory();
        using (var model = new TinyNet(seed: 1))
        using (var trainer = new Trainer(model, Short(3, uninterrupted)))
            trainer.Fit(train);

        string first = Path.Combine(Dir, "first");
        using (var model = new TinyNet(seed: 1))
        using (var trainer = new Trainer(model, Short(3, new StepHistory(), new Stopper(2)) with { CheckpointDirectory = first }))
            trainer.Fit(train);
        var resumed = new StepHistory();
        using (var model = new TinyNet(seed: 1))
        using (var trainer = new Trainer(model, Short(3, resumed) with { ResumeFrom = Path.Combine(first, "last.ckpt") }))
            trainer.Fit(train);

        Assert.That(resumed.Steps, Is.EqualTo(uninterrupted.Steps), "the resumed history holds the batches before and after the checkpoint, equal to an uninterrupted run's");
    }

    /// <summary>Stops a run after the given epoch, as if it had been interrupted.</summary>
    private sealed class Stopper(int afterEpoch) : TrainerCallback
    {
        public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
        {
            if (metrics.Epoch == afterEpoch)
                trainer.RequestStop("interrupted");
        }
    }

    [Test]
    public void SmoothingIsTheDebiasedRunningAverage()
    {
        Assert.Multiple(() =>
        {
            Assert.That(StepHistory.Smooth([3, 3, 3], 0.9), Is.EqualTo(new[] { 3.0, 3, 3 }).Within(1e-12), "debiasing: a constant stays constant");
            Assert.That(StepHistory.Smooth([1, 5, 2], 0), Is.EqualTo(new[] { 1.0, 5, 2 }), "weight 0 changes nothing");
            Assert.That(StepHistory.Smooth([2, 4], 0.5), Is.EqualTo(new[] { 2.0, (0.5 * 1 + 2) / 0.75 }).Within(1e-12));
            Assert.That(StepHistory.Smooth([double.NaN, 2, double.PositiveInfinity, 2], 0.5), Is.EqualTo(new[] { double.NaN, 2, 2, 2 }).Within(1e-12));
            Assert.That(() => StepHistory.Smooth([1], 1), Throws.TypeOf<ArgumentOutOfRangeException>());
            Assert.That(new[] { StepHistory.SmoothingFor(10), StepHistory.SmoothingFor(40), StepHistory.SmoothingFor(5000) }, Is.EqualTo(new[] { 0, 0.5, 0.9 }).Within(1e-12),
                "a window of about a twentieth of the run, at most 0.9");
        });
    }

    [Test]
    public void OverfittingMonitorWarnsWhenTheGapCrossesTheThreshold()
    {
        var sink = new WarningSink();
        using var model = new TinyNet();
        using var trainer = new Trainer(model, new TrainerOptions { Logger = sink });
        var monitor = new OverfittingMonitor();
        monitor.OnFitStart(trainer);
        EpochMetrics Epoch(int epoch, double train, double? validation) => new(epoch, train, 0.9, validation, validation is null ? null : 0.8, 1e-3, TimeSpan.Zero);

        monitor.OnEpochEnd(trainer, Epoch(1, 0.50, 0.90));   // gap 0.40: fine
        monitor.OnEpochEnd(trainer, Epoch(2, 0.30, 0.85));   // gap 0.55: warn
        monitor.OnEpochEnd(trainer, Epoch(3, 0.20, 0.95));   // still above: no repeat
        monitor.OnEpochEnd(trainer, Epoch(4, 0.20, null));   // not validated: nothing
        monitor.OnEpochEnd(trainer, Epoch(5, 0.40, 0.60));   // back below
        monitor.OnEpochEnd(trainer, Epoch(6, 0.10, 0.70));   // crosses again: warn

        Assert.Multiple(() =>
        {
            Assert.That(monitor.Warnings, Has.Count.EqualTo(2));
            Assert.That(monitor.Warnings[0], Does.StartWith("epoch 2:").And.Contains("0.55 above"));
            Assert.That(monitor.Warnings[1], Does.StartWith("epoch 6:"));
            Assert.That(sink.Warnings, Has.Count.EqualTo(2), "each warning is logged through the trainer's logger");
            Assert.That(sink.Warnings[0], Does.Contain("overfitting"));
            Assert.That(() => new OverfittingMonitor(0), Throws.TypeOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void OverfittingMonitorFiresInARealRunThatMemorisesRandomLabels()
    {
        // Labels unrelated to the images: the net memorises its 48 training images, the validation loss stays near ln 3.
        using var images = Bars(96);
        using var g = new Generator(9);
        using var randomLabels = randint(0, 3, new long[] { 96 }, generator: g, dtype: ScalarType.Int64);
        using var noise = new FashionVision.Data.InMemoryDataset(images.Images.clone(), randomLabels.clone(), images.ClassNames, "noise");
        using var train = noise.Take(48);
        using var validation = noise.Take(48, start: 48);
        var sink = new WarningSink();
        var monitor = new OverfittingMonitor(0.3);
        using var model = new TinyNet(channels: 32);
        using var trainer = new Trainer(model, Short(15, monitor) with { Logger = sink, Optimizer = new OptimizerOptions { LearningRate = 0.01, WeightDecay = 0 }, Scheduler = new SchedulerOptions() });
        var history = trainer.Fit(train, validation);

        Assert.That(history.Last!.ValidationLoss - history.Last.TrainLoss, Is.GreaterThan(0.3), "the run did overfit");
        Assert.That(monitor.Warnings, Is.Not.Empty);
        Assert.That(sink.Warnings, Has.Some.Contains("overfitting"));
    }

    [Test]
    public void ValidationReportsItsConfusionMatrix()
    {
        using var train = Bars(96, seed: 1);
        using var validation = Bars(60, seed: 2);
        ValidationResult? last = null;
        using var model = new TinyNet();
        using var trainer = new Trainer(model, Short(2, new OnValidation(v => last = v)));
        trainer.Fit(train, validation);

        var matrix = last!.ConfusionMatrix!;
        long diagonal = Enumerable.Range(0, 3).Sum(i => matrix[i, i]);
        var labels = validation.Labels.data<long>().ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(matrix.GetLength(0), Is.EqualTo(3));
            Assert.That(Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 3).Sum(c => matrix[r, c])),
                Is.EqualTo(Enumerable.Range(0, 3).Select(r => (long)labels.Count(l => l == r))), "rows sum to the true class counts");
            Assert.That(diagonal / 60.0, Is.EqualTo(last.Accuracy).Within(1e-12), "the diagonal is the accuracy");
        });
    }

    private sealed class OnValidation(Action<ValidationResult> action) : TrainerCallback
    {
        public override void OnValidationEnd(Trainer trainer, ValidationResult result) => action(result);
    }

    [Test]
    public void TensorBoardLoggerWritesBatchAndEpochScalars()
    {
        using var train = Bars(96, seed: 1);
        using var validation = Bars(30, seed: 2);
        using var model = new TinyNet();
        string path;
        TrainingHistory history;
        using (var logger = new TensorBoardLogger(Dir))
        {
            path = logger.Writer.FilePath;
            using var trainer = new Trainer(model, Short(2, logger));
            history = trainer.Fit(train, validation);
        }

        var scalars = TensorBoardEventFile.Scalars(path);
        List<TensorBoardEventFile.Scalar> Tag(string tag) => scalars.Where(s => s.Tag == tag).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(Tag(TensorBoardLogger.BatchLossTag).Select(s => s.Step), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (long)i)));
            Assert.That(Tag(TensorBoardLogger.LearningRateTag), Has.Count.EqualTo(12));
            Assert.That(Tag(TensorBoardLogger.TrainLossTag).Select(s => s.Step), Is.EqualTo(new[] { 6L, 12L }), "epoch values sit at the epoch's last batch");
            Assert.That(Tag(TensorBoardLogger.TrainLossTag).Select(s => (double)s.Value), Is.EqualTo(history.Epochs.Select(e => e.TrainLoss)).Within(1e-6));
            Assert.That(Tag(TensorBoardLogger.ValidationLossTag).Select(s => (double)s.Value), Is.EqualTo(history.Epochs.Select(e => e.ValidationLoss!.Value)).Within(1e-6));
            Assert.That(Tag(TensorBoardLogger.TrainAccuracyTag).Select(s => (double)s.Value), Is.EqualTo(history.Epochs.Select(e => e.TrainAccuracy)).Within(1e-6));
            Assert.That(Tag(TensorBoardLogger.ValidationAccuracyTag).Select(s => (double)s.Value), Is.EqualTo(history.Epochs.Select(e => e.ValidationAccuracy!.Value)).Within(1e-6));
            Assert.That(scalars.Select(s => s.WallTime), Is.All.GreaterThan(1.7e9), "wall times are Unix seconds");
        });
    }
}
