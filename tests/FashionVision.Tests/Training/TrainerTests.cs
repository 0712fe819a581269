using FashionVision.Data;
using FashionVision.Training;
using FashionVision.Transforms;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

public class TrainerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDirectory();

    [TearDown]
    public void TearDown()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A seeded per-sample horizontal flip, standing in for the augmentation layer.</summary>
    private sealed class TestFlip : IBatchTransform
    {
        public (Tensor Images, Tensor Targets) Apply(Tensor images, Tensor targets, Generator generator)
        {
            var flip = rand(new long[] { images.shape[0], 1, 1, 1 }, generator: generator).lt(0.5).to(images.device);
            return (where(flip, images.flip(3), images), targets);
        }

        public string Describe() => "TestFlip(p=0.5)";
    }

    private sealed class Hook(Action<Trainer, EpochMetrics> onEpochEnd) : TrainerCallback
    {
        public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics) => onEpochEnd(trainer, metrics);
    }

    /// <summary>Everything that makes resuming hard is on: dropout, BatchNorm, augmentation, accumulation, clipping, EMA, Lookahead, OneCycle.</summary>
    private TrainerOptions ResumableOptions() => new()
    {
        Epochs = 4,
        BatchSize = 16,
        Seed = 11,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 0.02, Lookahead = new LookaheadOptions(3, 0.5) },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
        Loss = new LossOptions { LabelSmoothing = 0.1 },
        Augmentation = new TestFlip(),
        EmaDecay = 0.9,
        AccumulationSteps = 2,
        GradientClipNorm = 5,
        CheckpointDirectory = _dir,
    };

    /// <summary>Trains <paramref name="options"/> from a fresh TinyNet(seed 4), cancelled after epoch <paramref name="stopAfter"/>; returns last.ckpt.</summary>
    private string Interrupt(TrainerOptions options, InMemoryDataset train, InMemoryDataset? validation, int stopAfter, string folder)
    {
        using var model = new TinyNet(seed: 4);
        using var cts = new CancellationTokenSource();
        var interrupted = options with
        {
            CheckpointDirectory = folder,
            Callbacks = new[] { new Hook((_, m) => { if (m.Epoch == stopAfter) cts.Cancel(); }) },
        };
        using (var trainer = new Trainer(model, interrupted))
            Assert.Throws<OperationCanceledException>(() => trainer.Fit(train, validation, cts.Token));
        string last = Path.Combine(folder, "last.ckpt");
        Assert.That(Checkpoint.ReadManifest(last).Epoch, Is.EqualTo(stopAfter));
        return last;
    }

    private static double[] EpochNumbers(IEnumerable<EpochMetrics> epochs) =>
        epochs.SelectMany(e => new[] { e.TrainLoss, e.TrainAccuracy, e.ValidationLoss ?? double.NaN, e.ValidationAccuracy ?? double.NaN, e.LearningRate }).ToArray();

    [Test]
    public void ResumedRunRepeatsTheUninterruptedRunEpochByEpoch()
    {
        using var train = Bars(112, seed: 1);
        using var validation = Bars(48, seed: 2);
        var options = ResumableOptions();

        using var reference = new TinyNet(seed: 4);
        TrainingHistory expected;
        using (var trainer = new Trainer(reference, options with { CheckpointDirectory = Path.Combine(_dir, "reference") }))
            expected = trainer.Fit(train, validation);

        string last = Interrupt(options, train, validation, stopAfter: 2, _dir);
        using var resumedModel = new TinyNet(seed: 99); // different initial weights: everything must come from the checkpoint
        using var resumed = new Trainer(resumedModel, options with { ResumeFrom = last });
        var history = resumed.Fit(train, validation);

        Assert.That(history.ResumedAfterEpoch, Is.EqualTo(2));
        Assert.That(history.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3, 4 }));
        Assert.That(EpochNumbers(history.Epochs.Skip(2)), Is.EqualTo(EpochNumbers(expected.Epochs.Skip(2))),
            "the epochs trained after the resume have the uninterrupted run's losses, accuracies and learning rates");
        Assert.That(Weights(resumedModel), Is.EqualTo(Weights(reference)), "no early stopping: these are the weights the resumed epochs produced");
    }

    [Test]
    public void ResumedRunWithEarlyStoppingRestoresTheSameBestEpochAfterTheResumePoint()
    {
        using var train = Bars(112, seed: 1);
        using var validation = Bars(48, seed: 2);
        var options = ResumableOptions() with { EarlyStopping = new EarlyStoppingOptions { Patience = 10, RestoreBestWeights = true } };

        using var reference = new TinyNet(seed: 4);
        TrainingHistory expected;
        using (var trainer = new Trainer(reference, options with { CheckpointDirectory = Path.Combine(_dir, "reference") }))
            expected = trainer.Fit(train, validation);
        Assert.That(expected.BestEpoch, Is.GreaterThan(2), "the test needs a best epoch after the resume point");

        string last = Interrupt(options, train, validation, stopAfter: 2, _dir);
        using var resumedModel = new TinyNet(seed: 99);
        using var resumed = new Trainer(resumedModel, options with { ResumeFrom = last });
        var history = resumed.Fit(train, validation);

        Assert.That(history.BestEpoch, Is.EqualTo(expected.BestEpoch));
        Assert.That(EpochNumbers(history.Epochs.Skip(2)), Is.EqualTo(EpochNumbers(expected.Epochs.Skip(2))));
        Assert.That(Weights(resumedModel), Is.EqualTo(Weights(reference)), "the restored best weights come from an epoch trained after the resume");
    }

    [Test]
    public void ResumeRefusesChangedOptionsListingThemUnlessAllowed()
    {
        using var train = Bars(64, seed: 1);
        var options = new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3, CheckpointDirectory = _dir };
        using (var model = new TinyNet(seed: 4))
        using (var trainer = new Trainer(model, options))
            trainer.Fit(train);
        string last = Path.Combine(_dir, "last.ckpt");
        Assert.That(Checkpoint.ReadManifest(last).RunSettings!.Epochs, Is.EqualTo(2));

        using var resumedModel = new TinyNet(seed: 4);
        var changed = options with
        {
            ResumeFrom = last,
            Epochs = 3,
            Optimizer = new OptimizerOptions { LearningRate = 0.01 },
            Augmentation = new TestFlip(),
        };
        using (var refused = new Trainer(resumedModel, changed))
        {
            var e = Assert.Throws<ResumeSettingsMismatchException>(() => refused.Fit(train))!;
            Assert.That(e.Differences.Select(d => d.Path), Is.EqualTo(new[] { "Epochs", "Optimizer.LearningRate", "Augmentation" }));
            Assert.That(e.ParamName, Is.EqualTo("ResumeFrom"));
            Assert.That(e.Message, Does.Contain("last.ckpt").And.Contain("Epochs 2 → 3").And.Contain("Optimizer.LearningRate 0.001 → 0.01")
                .And.Contain("Augmentation unset → \"TestFlip(p=0.5)\"").And.Contain("AllowChangedOptionsOnResume"));
            Assert.That(refused.History.Epochs, Is.Empty, "nothing ran");
        }
        using (var allowed = new Trainer(resumedModel, changed with { AllowChangedOptionsOnResume = true }))
            Assert.That(allowed.Fit(train).Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void ResumeNormalisesWithTheCheckpointsStatisticsFromTheFirstBatch()
    {
        // The run resumes on other images of the same size (the same labels, half as bright): their own statistics differ, but
        // a resumed run must keep normalising with the statistics it began with, so it equals a run that fixes them.
        using var train = Bars(64, seed: 1);
        using var dimmer = new InMemoryDataset(train.Images.div(2, rounding_mode: RoundingMode.floor).to_type(ScalarType.Byte), train.Labels.clone(), train.ClassNames.ToArray(), "bars-dim");
        var statistics = train.ComputeStatistics();
        Assert.That(dimmer.ComputeStatistics().Mean[0], Is.Not.EqualTo(statistics.Mean[0]).Within(1e-3));
        var options = new TrainerOptions { Epochs = 3, BatchSize = 16, Seed = 5 };

        double[] ResumeOnDimmer(TrainerOptions runOptions, string folder)
        {
            string last = Interrupt(runOptions, train, null, stopAfter: 1, folder);
            using var model = new TinyNet(seed: 7);
            using var trainer = new Trainer(model, runOptions with { ResumeFrom = last, CheckpointDirectory = null });
            trainer.Fit(dimmer);
            Assert.That(trainer.Normalization, Is.EqualTo(statistics).Using<ChannelStatistics>((a, b) => a.Mean.SequenceEqual(b.Mean) && a.Std.SequenceEqual(b.Std)));
            return Weights(model);
        }
        var fixedStatistics = ResumeOnDimmer(options with { Normalization = statistics }, Path.Combine(_dir, "fixed"));
        var fromCheckpoint = ResumeOnDimmer(options, Path.Combine(_dir, "computed"));
        Assert.That(fromCheckpoint, Is.EqualTo(fixedStatistics));
    }

    private sealed class ThreadProbe : TrainerCallback
    {
        public List<int> Counts { get; } = new();

        public override void OnEpochStart(Trainer trainer, int epoch) => Counts.Add(get_num_threads());
    }

    [Test]
    public void IntraOpThreadsArePartOfTheRunAndRestoredOnResume()
    {
        using var train = Bars(64, seed: 1);
        int callers = get_num_threads();
        var options = new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3, IntraOpThreads = 1, CheckpointDirectory = _dir };
        var probe = new ThreadProbe();
        using (var model = new TinyNet(seed: 4))
        using (var trainer = new Trainer(model, options with { Callbacks = new[] { probe } }))
        {
            trainer.Fit(train);
            Assert.That(trainer.IntraOpThreads, Is.EqualTo(1));
        }
        Assert.That(probe.Counts, Is.EqualTo(new[] { 1, 1 }), "training ran at the requested count");
        Assert.That(get_num_threads(), Is.EqualTo(callers), "the caller's count is put back");
        string last = Path.Combine(_dir, "last.ckpt");
        Assert.That(Checkpoint.ReadManifest(last).RunSettings!.IntraOpThreads, Is.EqualTo(1));

        var resumedProbe = new ThreadProbe();
        using (var model = new TinyNet(seed: 4))
        using (var trainer = new Trainer(model, options with { IntraOpThreads = null, Epochs = 3, AllowChangedOptionsOnResume = true, ResumeFrom = last, CheckpointDirectory = null, Callbacks = new[] { resumedProbe } }))
            trainer.Fit(train);
        Assert.That(resumedProbe.Counts, Is.EqualTo(new[] { 1 }), "a resumed run takes the checkpoint's count when the options name none");

        using (var model = new TinyNet(seed: 4))
        using (var trainer = new Trainer(model, options with { IntraOpThreads = 2, ResumeFrom = last, CheckpointDirectory = null }))
            Assert.That(Assert.Throws<ResumeSettingsMismatchException>(() => trainer.Fit(train))!.Differences.Select(d => d.Path), Is.EqualTo(new[] { "IntraOpThreads" }));
        Assert.That(get_num_threads(), Is.EqualTo(callers));
    }

    [Test]
    public void ZeroEpochsOnlyPreparesTheRunAndValidatesTheModelAsItIs()
    {
        using var train = Bars(64, seed: 1);
        using var validation = Bars(32, seed: 2);
        using var model = new TinyNet(seed: 4);
        var before = Weights(model);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 0, BatchSize = 16,
            Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
        });
        var history = trainer.Fit(train, validation);
        Assert.That(history.Epochs, Is.Empty);
        Assert.That(trainer.GlobalStep, Is.Zero);
        Assert.That(Weights(model), Is.EqualTo(before), "nothing was trained");
        Assert.That(trainer.Normalization, Is.Not.Null, "the run's normalisation is ready for evaluation");
        Assert.That(history.InitialValidation, Is.Not.Null);
        Assert.That(history.InitialValidation!.Epoch, Is.Zero);
        Assert.That(history.InitialValidation.Loss, Is.GreaterThan(0));
        Assert.That(history.InitialValidation.Accuracy, Is.InRange(0.0, 1.0));
        Assert.That(trainer.Fit(train).InitialValidation, Is.Null, "no validation set, nothing to validate");
    }

    [Test]
    public void LearnsASimpleTaskAndRecordsHistory()
    {
        using var train = Bars(240, seed: 1);
        using var validation = Bars(90, seed: 2);
        using var model = new TinyNet();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 3, BatchSize = 16, Optimizer = new OptimizerOptions { LearningRate = 0.02 } });
        var history = trainer.Fit(train, validation);
        Assert.That(history.Epochs, Has.Count.EqualTo(3));
        Assert.That(history.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(history.Last!.ValidationAccuracy, Is.GreaterThan(0.9));
        Assert.That(history.Epochs[^1].TrainLoss, Is.LessThan(history.Epochs[0].TrainLoss));
        Assert.That(history.Epochs.All(e => e.LearningRate == 0.02 && e.Elapsed > TimeSpan.Zero), Is.True);
        Assert.That(history.BestEpoch, Is.Not.Null);
        Assert.That(trainer.GlobalStep, Is.EqualTo(3 * (240 / 16)));
    }

    private sealed class GeneratorProbe : IBatchTransform
    {
        public List<float> FirstDraws { get; } = new();

        public (Tensor Images, Tensor Targets) Apply(Tensor images, Tensor targets, Generator generator)
        {
            if (FirstDraws.Count == 0)
                FirstDraws.AddRange(rand(new long[] { 4 }, generator: generator).data<float>().ToArray());
            return (images, targets);
        }

        public string Describe() => "GeneratorProbe";
    }

    [Test]
    public void TheSeedDrivesDistinctStreamsForTorchAndAugmentation()
    {
        using var train = Bars(32);
        using var model = new TinyNet();
        var probe = new GeneratorProbe();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, Seed = 21, Augmentation = probe });
        trainer.Fit(train);

        manual_seed(21);
        var torchGlobal = rand(4).data<float>().ToArray();
        using var documented = new Generator(SeedStreams.Augmentation(21));
        Assert.That(probe.FirstDraws, Is.Not.EqualTo(torchGlobal), "augmentation must not replay torch's global stream");
        Assert.That(probe.FirstDraws, Is.EqualTo(rand(new long[] { 4 }, generator: documented).data<float>().ToArray()));
        Assert.That(SeedStreams.Augmentation(21), Is.Not.EqualTo(SeedStreams.LoaderEpoch(21, 0)));
        Assert.That(SeedStreams.TorchGlobal(21), Is.EqualTo(21));
    }

    [Test]
    public void SameSeedGivesIdenticalWeights()
    {
        using var train = Bars(96);
        double[] Run()
        {
            using var model = new TinyNet(seed: 3);
            using var trainer = new Trainer(model, new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 5, Augmentation = new TestFlip() });
            trainer.Fit(train);
            return Weights(model);
        }
        var first = Run();
        var second = Run();
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void ResumedRunEndsWithExactlyTheWeightsOfAnUninterruptedRun()
    {
        using var train = Bars(112, seed: 1);
        using var validation = Bars(48, seed: 2);

        using var reference = new TinyNet(seed: 4);
        using (var trainer = new Trainer(reference, ResumableOptions() with { CheckpointDirectory = Path.Combine(_dir, "reference") }))
            trainer.Fit(train, validation);

        using var interrupted = new TinyNet(seed: 4);
        using var cts = new CancellationTokenSource();
        var options = ResumableOptions() with { Callbacks = new[] { new Hook((_, m) => { if (m.Epoch == 2) cts.Cancel(); }) } };
        using (var trainer = new Trainer(interrupted, options))
            Assert.Throws<OperationCanceledException>(() => trainer.Fit(train, validation, cts.Token));
        string last = Path.Combine(_dir, "last.ckpt");
        Assert.That(Checkpoint.ReadManifest(last).Epoch, Is.EqualTo(2));

        using var resumedModel = new TinyNet(seed: 99); // different initial weights: everything must come from the checkpoint
        using var resumed = new Trainer(resumedModel, ResumableOptions() with { ResumeFrom = last });
        var history = resumed.Fit(train, validation);

        Assert.That(history.ResumedAfterEpoch, Is.EqualTo(2));
        Assert.That(history.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3, 4 }));
        Assert.That(Weights(resumedModel), Is.EqualTo(Weights(reference)));
    }

    [Test]
    public void EarlyStoppingStopsAfterPatienceChecksAndRestoresTheBestWeights()
    {
        using var train = Bars(96);
        using var validation = Bars(48, seed: 2);
        using var model = new TinyNet();
        double[]? epochOneWeights = null;
        var options = new TrainerOptions
        {
            Epochs = 10,
            BatchSize = 16,
            Monitor = MonitorMetric.ValidationAccuracy,
            EarlyStopping = new EarlyStoppingOptions { Patience = 2, MinDelta = 1.0 }, // nothing can improve by 1.0: stop after 2 more checks
            Callbacks = new[] { new Hook((t, m) => { if (m.Epoch == 1) epochOneWeights = Weights(t.Model); }) },
        };
        using var trainer = new Trainer(model, options);
        var history = trainer.Fit(train, validation);
        Assert.That(history.StoppedEarly, Is.True);
        Assert.That(history.StopReason, Does.Contain("early stopping"));
        Assert.That(history.Epochs, Has.Count.EqualTo(3));
        Assert.That(Weights(model), Is.EqualTo(epochOneWeights));
    }

    [Test]
    public void PatienceCountsValidationChecksNotEpochs()
    {
        using var train = Bars(64);
        using var validation = Bars(32, seed: 2);
        using var model = new TinyNet();
        var options = new TrainerOptions
        {
            Epochs = 20,
            BatchSize = 16,
            ValidationInterval = 2,
            EarlyStopping = new EarlyStoppingOptions { Patience = 2, MinDelta = 100 },
        };
        using var trainer = new Trainer(model, options);
        var history = trainer.Fit(train, validation);
        Assert.That(history.Epochs, Has.Count.EqualTo(6), "checks at epochs 2 (best), 4 and 6");
        Assert.That(history.Epochs.Count(e => e.ValidationAccuracy is not null), Is.EqualTo(3));
    }

    private sealed class NaNAfter(int epoch, int batch) : ClassificationLoss
    {
        private int _calls;
        public int Epoch { get; set; } = 1;

        protected override Tensor Compute(Tensor logits, Tensor targets)
        {
            var loss = nn.functional.cross_entropy(logits, targets);
            return ++_calls >= (epoch - 1) * 6 + batch ? loss.mul(float.NaN) : loss;
        }

        public override string Describe() => "NaNAfter";
    }

    [Test]
    public void NonFiniteLossStopsWithAClearErrorAndKeepsTheLastGoodCheckpoint()
    {
        using var train = Bars(96);
        using var model = new TinyNet();
        var options = new TrainerOptions { Epochs = 5, BatchSize = 16, CustomLoss = new NaNAfter(epoch: 3, batch: 2), CheckpointDirectory = _dir };
        using var trainer = new Trainer(model, options);
        var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train))!;
        Assert.That(e.Epoch, Is.EqualTo(3));
        Assert.That(e.Batch, Is.EqualTo(2));
        Assert.That(double.IsNaN(e.Loss), Is.True);
        Assert.That(e.Message, Does.Contain("NaN").And.Contain("last.ckpt"));
        Assert.That(e.LastGoodCheckpoint, Is.EqualTo(Path.GetFullPath(Path.Combine(_dir, "last.ckpt"))));
        var checkpoint = Checkpoint.Load(e.LastGoodCheckpoint!);
        Assert.That(checkpoint.Manifest.Epoch, Is.EqualTo(2));
        using var fresh = new TinyNet(seed: 1);
        checkpoint.LoadWeightsInto(fresh);
        Assert.That(Weights(fresh).All(double.IsFinite), Is.True);
        Assert.That(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public void TerminateOnNaNIsWhatStopsADivergingRun()
    {
        using var train = Bars(96);
        using var model = new TinyNet();
        // Built in (the default): the first callback, and the one that throws.
        using (var trainer = new Trainer(model, new TrainerOptions { Epochs = 3, BatchSize = 16, CustomLoss = new NaNAfter(epoch: 2, batch: 3) }))
        {
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train))!;
            Assert.That(trainer.Callbacks[0], Is.TypeOf<TerminateOnNaN>());
            Assert.That((e.Epoch, e.Batch), Is.EqualTo((2, 3)));
        }

        // Registered by hand while the option is off, it fires just the same, after the training step has reported the
        // loss to the callbacks before it (the step itself never throws).
        var seen = new List<double>();
        var handMade = new TrainerOptions
        {
            Epochs = 3, BatchSize = 16, StopOnNonFiniteLoss = false, CustomLoss = new NaNAfter(epoch: 1, batch: 4),
            Callbacks = [new LossRecorder(seen), new TerminateOnNaN()],
        };
        using (var trainer = new Trainer(model, handMade))
        {
            var e = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(train))!;
            Assert.That((e.Epoch, e.Batch), Is.EqualTo((1, 4)));
            Assert.That(seen, Has.Count.EqualTo(4));
            Assert.That(double.IsNaN(seen[^1]), Is.True, "the NaN batch reached OnBatchEnd");
        }
    }

    private sealed class LossRecorder(List<double> losses) : TrainerCallback
    {
        public override void OnBatchEnd(Trainer trainer, BatchEndEventArgs batch) => losses.Add(batch.Loss);
    }

    [Test]
    public void WithoutTerminateOnNaNNonFiniteBatchesAreSkipped()
    {
        using var train = Bars(96);
        using var model = new TinyNet();
        var losses = new List<double>();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 2, BatchSize = 16, StopOnNonFiniteLoss = false, CustomLoss = new NaNAfter(epoch: 2, batch: 1) });
        trainer.BatchEnd += (_, e) => losses.Add(e.Loss);
        var history = trainer.Fit(train);
        Assert.That(trainer.Callbacks.OfType<TerminateOnNaN>(), Is.Empty);
        Assert.That(losses.Skip(6).All(double.IsNaN), Is.True, "every batch of epoch 2 reports its NaN loss");
        Assert.That(trainer.GlobalStep, Is.EqualTo(6), "and none of them steps the optimizer");
        Assert.That(Weights(model).All(double.IsFinite), Is.True);
        Assert.That(history.Epochs, Has.Count.EqualTo(2));
    }

    [Test]
    public void AStopRequestedAfterTheCurrentBatchEndsTheEpochThere()
    {
        using var train = Bars(96);
        using var model = new TinyNet();
        var stopper = new StopAt(batch: 3);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 5, BatchSize = 16, Callbacks = [stopper] });
        var history = trainer.Fit(train);
        Assert.That(trainer.GlobalStep, Is.EqualTo(3));
        Assert.That(history.Epochs, Has.Count.EqualTo(1));
        Assert.That(history.StoppedEarly, Is.True);
        Assert.That(history.StopReason, Is.EqualTo("enough"));
    }

    private sealed class StopAt(int batch) : TrainerCallback
    {
        public override void OnBatchEnd(Trainer trainer, BatchEndEventArgs e)
        {
            if (e.Batch == batch)
                trainer.RequestStop("enough", afterCurrentBatch: true);
        }
    }

    [TestCase(MonitorMetric.ValidationLoss, 0.5, 0.6, 0.0, true)]
    [TestCase(MonitorMetric.ValidationLoss, 0.59, 0.6, 0.05, false)]
    [TestCase(MonitorMetric.ValidationLoss, 0.7, 0.6, 0.0, false)]
    [TestCase(MonitorMetric.ValidationAccuracy, 0.9, 0.8, 0.0, true)]
    [TestCase(MonitorMetric.ValidationAccuracy, 0.81, 0.8, 0.05, false)]
    [TestCase(MonitorMetric.ValidationAccuracy, 0.8, 0.8, 0.0, false)]
    public void OneComparisonDecidesWhatIsBetter(MonitorMetric metric, double value, double best, double minDelta, bool better)
    {
        Assert.That(metric.IsImprovement(value, best, minDelta), Is.EqualTo(better));
        Assert.That(metric.IsImprovement(value, null), Is.True, "anything beats nothing");
        Assert.That(metric.Mode(), Is.EqualTo(metric == MonitorMetric.ValidationLoss ? MonitorMode.Min : MonitorMode.Max));
        Assert.That(metric.ValueIn(new ValidationResult(1, 0.25, 0.75)), Is.EqualTo(metric == MonitorMetric.ValidationLoss ? 0.25 : 0.75));
    }

    [Test]
    public void TheAveragedWeightsAreStoredOnceInACheckpoint()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, EmaDecay = 0.9, CheckpointDirectory = _dir });
        trainer.Fit(train);
        using var zip = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_dir, "last.ckpt"));
        var entries = zip.Entries.Select(e => e.FullName).ToList();
        Assert.That(entries, Does.Contain("ema.sd"));
        Assert.That(entries.Where(e => e.StartsWith("callbacks/ExponentialMovingAverage/", StringComparison.Ordinal)), Is.Empty);
        Assert.That(Checkpoint.ReadManifest(Path.Combine(_dir, "last.ckpt")).Callbacks["ExponentialMovingAverage"].Values["updates"], Is.EqualTo(4));
    }

    [Test]
    public void GradientAccumulationEqualsOneLargerBatch()
    {
        using var train = Bars(64);
        double[] Run(int batchSize, int accumulation)
        {
            using var model = nn.Sequential(nn.Flatten(), nn.Linear(64, 3));
            using (no_grad())
                foreach (var p in model.parameters())
                    p.fill_(0.01f);
            using var trainer = new Trainer(model, new TrainerOptions
            {
                Epochs = 2, BatchSize = batchSize, AccumulationSteps = accumulation, Seed = 3,
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1, WeightDecay = 0 },
            });
            trainer.Fit(train);
            return Weights(model);
        }
        // The loader's order does not depend on the batch size, so 2 × 16 accumulated = the same 32 images.
        Assert.That(Run(16, 2), Is.EqualTo(Run(32, 1)).Within(1e-5));
        Assert.That(Run(16, 2), Is.Not.EqualTo(Run(16, 1)).Within(1e-5));
    }

    private sealed class GradientNormProbe : TrainerCallback
    {
        public List<double> Norms { get; } = new();

        public override void OnBeforeOptimizerStep(Trainer trainer)
        {
            double sq = 0;
            foreach (var p in trainer.Model.parameters())
                if (p.grad is { } g)
                    sq += g.pow(2).sum().item<float>();
            Norms.Add(Math.Sqrt(sq));
        }
    }

    [Test]
    public void GradientClippingBoundsTheGlobalNorm()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        var probe = new GradientNormProbe();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, GradientClipNorm = 0.01, Callbacks = new[] { probe } });
        trainer.Fit(train);
        Assert.That(probe.Norms, Has.Count.EqualTo(4));
        Assert.That(probe.Norms, Has.All.LessThanOrEqualTo(0.01 * 1.001));
    }

    [Test]
    public void ProgressEventsFireForEveryBatchAndEpoch()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        var reports = new List<TrainingProgress>();
        var progress = new SynchronousProgress(reports);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 2, BatchSize = 16, Progress = progress });
        int batches = 0, epochs = 0;
        trainer.BatchEnd += (_, e) => { batches++; Assert.That(e.Loss, Is.GreaterThan(0)); };
        trainer.EpochEnd += (_, e) => epochs++;
        trainer.Fit(train);
        Assert.That((batches, epochs), Is.EqualTo((8, 2)));
        Assert.That(reports.Count(r => !r.EpochCompleted), Is.EqualTo(8));
        Assert.That(reports.Where(r => r.EpochCompleted).Select(r => r.Metrics!.Epoch), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(reports[^1].Fraction, Is.EqualTo(1.0));
    }

    private sealed class SynchronousProgress(List<TrainingProgress> sink) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => sink.Add(value);
    }

    [Test]
    public void CancellationStopsTheRun()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        using var cts = new CancellationTokenSource();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 5, BatchSize = 16 });
        trainer.BatchEnd += (_, e) => { if (e.Batch == 2) cts.Cancel(); };
        Assert.Throws<OperationCanceledException>(() => trainer.Fit(train, cancellationToken: cts.Token));
        Assert.That(trainer.History.Epochs, Is.Empty);
    }

    [Test]
    public void BadOptionsAreRejectedWithTheOptionName()
    {
        using var train = Bars(32);
        using var model = new TinyNet();
        ArgumentException Fit(TrainerOptions options, InMemoryDataset? data = null, nn.Module<Tensor, Tensor>? m = null)
        {
            using var trainer = new Trainer(m ?? model, options);
            return Assert.Catch<ArgumentException>(() => trainer.Fit(data ?? train))!;
        }
        var e = Fit(new TrainerOptions { Epochs = -1 });
        Assert.That(e.ParamName, Is.EqualTo("Epochs"));
        Assert.That(e.Message, Does.Contain("Epochs"));
        e = Fit(new TrainerOptions { Optimizer = new OptimizerOptions { LearningRate = 0 } });
        Assert.That(e.ParamName, Is.EqualTo("Optimizer.LearningRate"));
        Assert.That(e.Message, Does.Contain("Optimizer.LearningRate"));
        e = Fit(new TrainerOptions { Optimizer = new OptimizerOptions { LearningRate = -0.1 } });
        Assert.That(e.ParamName, Is.EqualTo("Optimizer.LearningRate"));
        using var empty = train.Take(0);
        e = Fit(new TrainerOptions(), empty);
        Assert.That(e.ParamName, Is.EqualTo("trainSet"));
        using var fiveClasses = new TinyNet(classes: 5);
        e = Fit(new TrainerOptions(), m: fiveClasses);
        Assert.That(e.ParamName, Is.EqualTo("model"));
        Assert.That(e.Message, Does.Contain("3 classes").And.Contain("NumClasses"));
        e = Fit(new TrainerOptions { EarlyStopping = new EarlyStoppingOptions() });
        Assert.That(e.ParamName, Is.EqualTo("EarlyStopping"));
        e = Fit(new TrainerOptions { Scheduler = new SchedulerOptions { Kind = SchedulerKind.CosineWarmRestarts, T0 = 0 } });
        Assert.That(e.ParamName, Is.EqualTo("Scheduler.T0"));
        e = Fit(new TrainerOptions { Loss = new LossOptions { Kind = LossKind.Distillation } });
        Assert.That(e.ParamName, Is.EqualTo("Teacher"));
    }

    [Test]
    public void DistillationTrainsAgainstATeacher()
    {
        using var train = Bars(96);
        using var validation = Bars(48, seed: 2);
        using var teacher = new TinyNet(seed: 1, channels: 8);
        using (var t = new Trainer(teacher, new TrainerOptions { Epochs = 2, BatchSize = 16, Optimizer = new OptimizerOptions { LearningRate = 0.02 } }))
            t.Fit(train);
        using var student = new TinyNet(seed: 2, channels: 2);
        using var trainer = new Trainer(student, new TrainerOptions
        {
            Epochs = 3, BatchSize = 16, Teacher = teacher, Optimizer = new OptimizerOptions { LearningRate = 0.02 },
            Loss = new LossOptions { Kind = LossKind.Distillation, DistillationTemperature = 2, DistillationAlpha = 0.5 },
        });
        var history = trainer.Fit(train, validation);
        Assert.That(trainer.Loss, Is.TypeOf<DistillationLoss>());
        Assert.That(history.Last!.ValidationAccuracy, Is.GreaterThan(0.8));
    }

    [Test]
    public void ADistillationLossCanOwnItsTeacher()
    {
        using var train = Bars(96);
        using var teacher = new TinyNet(seed: 1, channels: 8);
        using (var t = new Trainer(teacher, new TrainerOptions { Epochs = 2, BatchSize = 16, Optimizer = new OptimizerOptions { LearningRate = 0.02 } }))
            t.Fit(train);
        using var student = new TinyNet(seed: 2, channels: 2);
        var loss = new DistillationLoss(new CrossEntropyLoss(), temperature: 2, teacher: teacher);
        using var trainer = new Trainer(student, new TrainerOptions { Epochs = 2, BatchSize = 16, CustomLoss = loss, Optimizer = new OptimizerOptions { LearningRate = 0.02 } });
        var history = trainer.Fit(train);
        Assert.That(loss.Teacher, Is.SameAs(teacher));
        Assert.That(history.Last!.TrainLoss, Is.LessThan(history.Epochs[0].TrainLoss));

        using var orphan = new Trainer(new TinyNet(), new TrainerOptions { Epochs = 1, BatchSize = 16, CustomLoss = new DistillationLoss(new CrossEntropyLoss()) });
        Assert.That(Assert.Throws<ArgumentException>(() => orphan.Fit(train))!.ParamName, Is.EqualTo("Teacher"));
    }

    [Test]
    public void CsvLoggerAndLearningRateMonitorRecordTheRun()
    {
        using var train = Bars(64);
        using var model = new TinyNet();
        string csv = Path.Combine(_dir, "history.csv");
        var monitor = new LearningRateMonitor();
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 3, BatchSize = 16,
            Scheduler = new SchedulerOptions { Kind = SchedulerKind.Step, StepSize = 1, Gamma = 0.5 },
            Callbacks = new TrainerCallback[] { new CsvLogger(csv), monitor },
        });
        trainer.Fit(train);
        var lines = File.ReadAllLines(csv);
        Assert.That(lines, Has.Length.EqualTo(4));
        Assert.That(lines[0], Is.EqualTo("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds"));
        Assert.That(trainer.History.Epochs.Select(e => e.LearningRate), Is.EqualTo(new[] { 1e-3, 5e-4, 2.5e-4 }).Within(1e-12));
        Assert.That(monitor.Records, Has.Count.EqualTo(12));
        Assert.That(monitor.Records[^1].LearningRates[0], Is.EqualTo(2.5e-4).Within(1e-12));
    }

    [Test]
    public void LiveTensorCountDoesNotGrowAcrossEpochs()
    {
        using var train = Bars(64);
        using var validation = Bars(32, seed: 2);
        using var model = new TinyNet();
        var live = new List<long>();
        var options = new TrainerOptions
        {
            Epochs = 12, BatchSize = 16, EmaDecay = 0.9, Augmentation = new TestFlip(),
            Scheduler = new SchedulerOptions { Kind = SchedulerKind.Cosine, Interval = SchedulerInterval.Batch },
            Callbacks = new[] { new Hook((_, _) => { GC.Collect(); GC.WaitForPendingFinalizers(); live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount); }) },
        };
        using var trainer = new Trainer(model, options);
        trainer.Fit(train, validation);
        Assert.That(live, Has.Count.EqualTo(12));
        Assert.That(live[^1], Is.EqualTo(live[2]), $"live tensors per epoch: {string.Join(", ", live)}");
    }
}

public class TrainerAugmentationTests
{
    [Test]
    public void TrainsThroughAFlipAndCutMixChainWithSoftTargets()
    {
        using var train = TrainingTestKit.Bars(96);
        using var validation = TrainingTestKit.Bars(48, seed: 2);
        using var model = new TrainingTestKit.TinyNet();
        var chain = new FashionVision.Transforms.Compose(
            new FashionVision.Transforms.RandomHorizontalFlip(0.5),
            new FashionVision.Transforms.CutMix(numClasses: 3, alpha: 1.0, p: 1.0));
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 3, BatchSize = 16, Augmentation = chain, Optimizer = new OptimizerOptions { LearningRate = 0.02 },
            Loss = new LossOptions { Kind = LossKind.SoftTargetCrossEntropy },
        });
        var history = trainer.Fit(train, validation);
        Assert.That(history.Epochs.All(e => double.IsFinite(e.TrainLoss)), Is.True);
        Assert.That(history.Last!.ValidationAccuracy, Is.GreaterThan(0.6));
    }
}
