using FashionVision.Data;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

/// <summary>
/// Time-budgeted training and stop-at-accuracy, on a fake clock that advances a fixed time per batch: no test here reads
/// the real clock.
/// </summary>
public class TimeBudgetTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDirectory();

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir))
            Directory.Delete(_dir, recursive: true);
    }

    /// <summary>A clock that only moves when told to.</summary>
    internal sealed class FakeClock : TimeProvider
    {
        private long _ticks;

        public FakeClock(DateTimeOffset start) => Start = start;

        public DateTimeOffset Start { get; }

        public void Advance(TimeSpan by) => _ticks += by.Ticks;

        public override DateTimeOffset GetUtcNow() => Start + TimeSpan.FromTicks(_ticks);

        public override long GetTimestamp() => _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    }

    /// <summary>
    /// <see cref="TinyNet"/> on a machine of a chosen speed: every forward pass advances the fake clock by its images times
    /// the cost of one, in training (forward, backward and update together) or in evaluation.
    /// </summary>
    internal sealed class ClockedNet : nn.Module<Tensor, Tensor>
    {
        private readonly TinyNet inner;
        private readonly FakeClock _clock;
        private bool _warm;

        public ClockedNet(FakeClock clock, long seed = 0) : base("ClockedNet")
        {
            _clock = clock;
            inner = new TinyNet(seed: seed);
            RegisterComponents();
        }

        /// <summary>Seconds one image of a training step takes.</summary>
        public double TrainSecondsPerImage { get; set; }

        /// <summary>Seconds one image of an evaluation takes.</summary>
        public double EvalSecondsPerImage { get; set; }

        /// <summary>Seconds the first training pass takes on top (warm-up).</summary>
        public double WarmupSeconds { get; set; }

        public override Tensor forward(Tensor input)
        {
            double perImage = training ? TrainSecondsPerImage : EvalSecondsPerImage;
            double extra = training && !_warm ? WarmupSeconds : 0;
            _warm |= training;
            _clock.Advance(TimeSpan.FromSeconds(perImage * input.shape[0] + extra));
            return inner.forward(input);
        }
    }

    /// <summary>Advances the clock by a fixed time at the start of every batch (the batch "takes" that long).</summary>
    private sealed class Ticker(FakeClock clock, TimeSpan perBatch) : TrainerCallback
    {
        public override void OnBatchStart(Trainer trainer, int epoch, int batch) => clock.Advance(perBatch);
    }

    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    // 64 images in batches of 8: 8 steps an epoch; one second a batch.
    private static TrainerOptions Budgeted(FakeClock clock, TimeBudget budget, int epochs = 100) => new()
    {
        Epochs = epochs,
        BatchSize = 8,
        Seed = 3,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 0.01 },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch, PctStart = 0.25 },
        TimeBudget = budget,
        TimeProvider = clock,
        Callbacks = new TrainerCallback[] { new Ticker(clock, TimeSpan.FromSeconds(1)) },
    };

    [Test]
    public void TheScheduleIsLaidOverTheBudgetAndEndsAnnealedAtTheDeadline()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        var clock = new FakeClock(T0);
        var learningRates = new List<double>();
        using var trainer = new Trainer(model, Budgeted(clock, new TimeBudget(TimeSpan.FromSeconds(20))));
        trainer.BatchEnd += (_, e) => learningRates.Add(trainer.Optimizer!.ParamGroups.First().LearningRate);
        var history = trainer.Fit(train);

        // 20 one-second batches fit: two and a half epochs of the 100 allowed.
        Assert.That(trainer.GlobalStep, Is.EqualTo(20));
        Assert.That(history.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(history.StoppedEarly, Is.True);
        Assert.That(history.StopReason, Does.Contain("time budget"));

        // After step k the schedule stands at k/20 of its length (800 steps for 100 epochs), not at step k.
        var schedule = new OneCycleLR(800, pctStart: 0.25);
        for (int k = 1; k <= 20; k++)
            Assert.That(learningRates[k - 1], Is.EqualTo(0.01 * schedule.Factor(k * 800 / 20)).Within(1e-12), $"step {k}");
        Assert.That(learningRates[^1], Is.EqualTo(0.01 * schedule.Factor(800)).Within(1e-12), "the run ends at the schedule's final learning rate");
    }

    [Test]
    public void TimeBeforeFitAndTheMeasuredEvaluationReserveComeOutOfTheBudget()
    {
        using var train = Bars(64);
        var clock = new FakeClock(T0);
        // Evaluating an image costs 1/24 s: the 48 reserved images take 2 s, the probe (a warm-up and two timed batches of
        // 8) 1 s, the model check 1/24 s. Training starts 4 + 1/24 + 1 s into the budget with 18 s available: after step k
        // 5.04 + k s are used, and step 13 would end past 18 s.
        using var model = new ClockedNet(clock) { EvalSecondsPerImage = 1.0 / 24 };
        clock.Advance(TimeSpan.FromSeconds(4)); // start-up: the budget began 4 s before Fit
        var budget = new TimeBudget(TimeSpan.FromSeconds(20)) { StartedAt = T0, ReserveForImages = 48 };
        using var trainer = new Trainer(model, Budgeted(clock, budget) with { EvaluationBatchSize = 8 });
        trainer.Fit(train);
        Assert.That(trainer.GlobalStep, Is.EqualTo(12));
        Assert.That(Seconds(clock) + 48.0 / 24, Is.LessThanOrEqualTo(20), "the evaluation ends within the budget");
    }

    [Test]
    public void TheMarginComesOutOfTheBudgetToo()
    {
        using var train = Bars(64);
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock) { EvalSecondsPerImage = 1.0 / 24 };
        clock.Advance(TimeSpan.FromSeconds(4));
        // As above, with 3 s more kept back: 15 s available, and step 10 would end past them.
        var budget = new TimeBudget(TimeSpan.FromSeconds(20)) { StartedAt = T0, ReserveForImages = 48, Margin = TimeSpan.FromSeconds(3) };
        using var trainer = new Trainer(model, Budgeted(clock, budget) with { EvaluationBatchSize = 8 });
        trainer.Fit(train);
        Assert.That(trainer.GlobalStep, Is.EqualTo(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => (budget with { Margin = TimeSpan.FromSeconds(20) }).Validate());
    }

    [Test]
    public void EpochsStayAnUpperBound()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        var clock = new FakeClock(T0);
        using var trainer = new Trainer(model, Budgeted(clock, new TimeBudget(TimeSpan.FromHours(1)), epochs: 2));
        var history = trainer.Fit(train);
        Assert.That(trainer.GlobalStep, Is.EqualTo(16));
        Assert.That(history.StoppedEarly, Is.False);
    }

    [Test]
    public void ABudgetAlreadySpentIsRejected()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        var clock = new FakeClock(T0);
        clock.Advance(TimeSpan.FromMinutes(2));
        using var trainer = new Trainer(model, Budgeted(clock, new TimeBudget(TimeSpan.FromMinutes(1)) { StartedAt = T0 }));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(train));
        Assert.That(e!.Message, Does.Contain("already spent"));
    }

    [Test]
    public void AResumedBudgetedRunEndsWithExactlyTheWeightsOfAnUninterruptedOne()
    {
        using var train = Bars(64);

        using var reference = new TinyNet(seed: 5);
        using (var trainer = new Trainer(reference, Budgeted(new FakeClock(T0), new TimeBudget(TimeSpan.FromSeconds(21)))))
            trainer.Fit(train);

        // The same run, interrupted after its first epoch (8 of its 21 seconds)...
        var clock = new FakeClock(T0);
        using var interrupted = new TinyNet(seed: 5);
        using var cts = new CancellationTokenSource();
        var options = Budgeted(clock, new TimeBudget(TimeSpan.FromSeconds(21))) with { CheckpointDirectory = _dir };
        options = options with { Callbacks = options.Callbacks.Append(new CancelAfterEpoch(1, cts)).ToArray() };
        using (var trainer = new Trainer(interrupted, options))
            Assert.Throws<OperationCanceledException>(() => trainer.Fit(train, cancellationToken: cts.Token));

        // ...and resumed an hour later in another process, with different initial weights.
        var later = new FakeClock(T0.AddHours(1));
        using var resumedModel = new TinyNet(seed: 77);
        using var resumed = new Trainer(resumedModel, Budgeted(later, new TimeBudget(TimeSpan.FromSeconds(21))) with { ResumeFrom = Path.Combine(_dir, "last.ckpt") });
        var history = resumed.Fit(train);

        Assert.That(resumed.GlobalStep, Is.EqualTo(21));
        Assert.That(history.ResumedAfterEpoch, Is.EqualTo(1));
        Assert.That(Weights(resumedModel), Is.EqualTo(Weights(reference)));
    }

    [Test]
    public void ABudgetedRunCannotResumeFromAnUnbudgetedCheckpoint()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        using (var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 8, CheckpointDirectory = _dir }))
            trainer.Fit(train);
        var budgeted = Budgeted(new FakeClock(T0), new TimeBudget(TimeSpan.FromSeconds(30))) with { ResumeFrom = Path.Combine(_dir, "last.ckpt") };
        using var resumed = new Trainer(model, budgeted);
        var changed = Assert.Throws<ResumeSettingsMismatchException>(() => resumed.Fit(train))!;
        Assert.That(changed.Differences.Select(d => d.Path), Does.Contain("TimeBudgetSeconds"), "the run's settings differ");
        // Even with changes allowed, a budget cannot be laid over a run that had none.
        using var allowed = new Trainer(model, budgeted with { AllowChangedOptionsOnResume = true });
        var e = Assert.Throws<ArgumentException>(() => allowed.Fit(train));
        Assert.That(e!.Message, Does.Contain("without a time budget"));
    }

    private static double Seconds(FakeClock clock) => (clock.GetUtcNow() - T0).TotalSeconds;

    private sealed class CancelAfterEpoch(int epoch, CancellationTokenSource cts) : TrainerCallback
    {
        public override string StateKey => "CancelAfterEpoch";

        public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
        {
            if (metrics.Epoch == epoch)
                cts.Cancel();
        }
    }

    [Test]
    public void StopAtAccuracyStopsAtTheFirstValidationThatReachesTheTarget()
    {
        using var train = Bars(96, seed: 1);
        using var validation = Bars(48, seed: 2);
        using var model = new TinyNet();
        var options = new TrainerOptions
        {
            Epochs = 30,
            BatchSize = 16,
            Optimizer = new OptimizerOptions { LearningRate = 0.02 },
            StopAtAccuracy = 0.9,
        };
        using var trainer = new Trainer(model, options);
        var history = trainer.Fit(train, validation);

        int first = history.Epochs.FindIndex(e => e.ValidationAccuracy >= 0.9);
        Assert.That(first, Is.GreaterThanOrEqualTo(0), "the bars are learnable");
        Assert.That(history.Epochs, Has.Count.EqualTo(first + 1), "it stops at the first epoch that reaches the target");
        Assert.That(history.StoppedEarly, Is.True);
        Assert.That(history.StopReason, Does.Contain("reached the target"));
    }

    [Test]
    public void StopAtAccuracyNeedsAValidationSetAndAnAccuracy()
    {
        using var train = Bars(32);
        using var model = new TinyNet();
        using var withoutValidation = new Trainer(model, new TrainerOptions { Epochs = 1, StopAtAccuracy = 0.9 });
        Assert.That(Assert.Throws<ArgumentException>(() => withoutValidation.Fit(train))!.ParamName, Is.EqualTo("StopAtAccuracy"));
        using var outOfRange = new Trainer(model, new TrainerOptions { Epochs = 1, StopAtAccuracy = 1.5 });
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => outOfRange.Fit(train))!.ParamName, Is.EqualTo("StopAtAccuracy"));
    }

    [TestCase("90", 90)]
    [TestCase("60s", 60)]
    [TestCase("2m", 120)]
    [TestCase("1h30m", 5400)]
    [TestCase("1.5h", 5400)]
    [TestCase("500ms", 0.5)]
    [TestCase("00:01:30", 90)]
    public void DurationsParseAsTheCommandLineWritesThem(string text, double seconds) =>
        Assert.That(TimeBudget.ParseDuration(text).TotalSeconds, Is.EqualTo(seconds).Within(1e-9));

    [TestCase("")]
    [TestCase("soon")]
    [TestCase("5 parsecs")]
    [TestCase("0s")]
    [TestCase("-3m")]
    public void BadDurationsAreRejected(string text) =>
        Assert.Throws<FormatException>(() => TimeBudget.ParseDuration(text));
}
