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
        EarlyStopping = new EarlyStoppingOptions { Patience = 10 },
        AccumulationSteps = 2,
        GradientClipNorm = 5,
        CheckpointDirectory = _dir,
    };

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
