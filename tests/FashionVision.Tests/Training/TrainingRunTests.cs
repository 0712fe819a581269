using FashionVision.Models;
using FashionVision.Training;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

/// <summary>The one run path: a spec in, a trained and evaluated model out.</summary>
public class TrainingRunTests : WithTempDirectory
{
    // FastCnn at width 4 fits the 8×8 bars; the spec names fast-cnn, the factory builds the small one.
    private static readonly TrainingRunOptions Small = new()
    {
        CreateModel = (_, options) => new FastCnn(options.InputChannels, options.NumClasses, width: 4, dropRate: 0),
    };

    private static RunSpec Spec(int epochs = 6, double validationSplit = 0) => new()
    {
        Data = new DataSpec { Dataset = "bars", ValidationSplit = validationSplit },
        Model = new ModelSpec { Name = ModelZoo.FastCnnName, WhitenStem = true },
        Training = new TrainingSpec
        {
            Epochs = epochs,
            BatchSize = 16,
            Seed = 1,
            Precision = ComputePrecision.Float32,
            Optimizer = new OptimizerOptions { LearningRate = 0.01 },
        },
        Evaluation = new EvaluationSpec { Tta = "flip" },
    };

    [Test]
    public void RunsTheSpecEndToEndWithTheWhitenedStemAndTheTestTimeAugmentation()
    {
        using var train = Bars(128, seed: 1);
        using var test = Bars(64, seed: 2);
        using var run = TrainingRun.Execute(Spec(), train, test, Small);

        Assert.That(run.History.Epochs, Has.Count.EqualTo(6));
        Assert.That(run.Evaluation.Count, Is.EqualTo(64));
        Assert.That(run.Evaluation.Accuracy, Is.GreaterThan(0.8), run.Evaluation.ToReport());
        Assert.That(run.ImagesTrained, Is.EqualTo(6 * 8 * 16));
        Assert.That(run.Validation, Is.Null);
        Assert.That(run.Precision, Is.EqualTo(ComputePrecision.Float32));
        var stem = run.Model.modules().OfType<TorchSharp.Modules.Conv2d>().First();
        Assert.That(stem.weight.requires_grad, Is.False, "the whitened stem is frozen");
        Assert.That(run.Normalization, Is.Not.Null, "the stem was whitened with the statistics the trainer normalises with");
    }

    [Test]
    public void HoldsOutAStratifiedValidationShareAndValidatesOnIt()
    {
        using var train = Bars(120, seed: 1);
        using var test = Bars(30, seed: 2);
        using var run = TrainingRun.Execute(Spec(epochs: 2, validationSplit: 0.25), train, test, Small);

        Assert.That(run.Validation!.Count, Is.EqualTo(30));
        Assert.That(run.HeldOutTrain!.Count, Is.EqualTo(90));
        Assert.That(run.History.Epochs.All(e => e.ValidationAccuracy is not null), Is.True);
    }

    [Test]
    public void TheRunFolderKeepsTheSpecAndAReplayGivesTheSameHistory()
    {
        using var train = Bars(96, seed: 1);
        using var test = Bars(30, seed: 2);
        var spec = Spec(epochs: 2) with { Output = new OutputSpec { Folder = Path.Combine(Dir, "first") } };
        using var first = TrainingRun.Execute(spec, train, test, Small);
        var saved = RunSpec.Load(Path.Combine(Dir, "first", RunSpec.FileName));
        Assert.That(saved.ToJson(), Is.EqualTo(spec.ToJson()));

        using var replay = TrainingRun.Execute(saved with { Output = new OutputSpec() }, train, test, Small);
        Assert.That(replay.History.Epochs.Select(e => e.TrainLoss), Is.EqualTo(first.History.Epochs.Select(e => e.TrainLoss)));
        Assert.That(replay.Evaluation.Accuracy, Is.EqualTo(first.Evaluation.Accuracy));
    }

    [Test]
    public void ResumingWithAnotherSpecListsTheDifferences()
    {
        using var train = Bars(64, seed: 1);
        using var test = Bars(30, seed: 2);
        string folder = Path.Combine(Dir, "run");
        using (TrainingRun.Execute(Spec(epochs: 1) with { Output = new OutputSpec { Folder = folder } }, train, test, Small)) { }

        var changed = Spec(epochs: 1) with
        {
            Training = Spec().Training with { Epochs = 1, BatchSize = 8 },
            Output = new OutputSpec { Folder = folder, Resume = Path.Combine(folder, "last.ckpt") },
        };
        var e = Assert.Throws<ResumeSettingsMismatchException>(() => TrainingRun.Execute(changed, train, test, Small))!;
        Assert.That(e.Differences.Select(d => d.Path), Is.EqualTo(new[] { "training.batchSize" }));
    }

    [Test]
    public void ABudgetedSpecReservesItsMeasuredTestEvaluationAndItsMarginInsideTheBudget()
    {
        using var train = Bars(64, seed: 1);
        using var test = Bars(48, seed: 2);
        var clock = new TimeBudgetTests.FakeClock(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        // One second per 8-image batch; an evaluated image costs 1/24 s on the fake clock (a forward hook charges it), so
        // 48 test images × 2 views = 4 s are reserved, the probe (a warm-up and two timed batches of those 96 images) takes
        // 12 s, and the margin keeps 1 s for printing and exit: 40 − 12 − 4 − 1 = 23 s train, 1 s a step.
        var options = Small with
        {
            TimeProvider = clock,
            BudgetStartedAt = clock.Start,
            CreateModel = (_, o) =>
            {
                var model = new FastCnn(o.InputChannels, o.NumClasses, width: 4, dropRate: 0);
                model.register_forward_hook((m, _, output) =>
                {
                    if (!m.training)
                        clock.Advance(TimeSpan.FromSeconds(output.shape[0] / 24.0));
                    return output;
                });
                return model;
            },
            Callbacks = _ => [new Tick(clock)],
        };
        var spec = Spec(epochs: 100) with { Training = Spec().Training with { Epochs = 100, BatchSize = 8, TimeBudgetSeconds = 40 } };
        using var run = TrainingRun.Execute(spec, train, test, options);
        long steps = run.ImagesTrained / 8;
        Assert.That(steps, Is.InRange(21, 23), "40 s − 12 s of probe − 4 s of evaluation − 1 s of margin, at 1 s a step");
        Assert.That(run.History.StopReason, Does.Contain("time budget"));
    }

    private sealed class Tick(TimeBudgetTests.FakeClock clock) : TrainerCallback
    {
        public override void OnBatchStart(Trainer trainer, int epoch, int batch) => clock.Advance(TimeSpan.FromSeconds(1));
    }

    [Test]
    public void AValidationShareThatLeavesASplitEmptySaysHowManyImagesThereAreAndWhatToChange()
    {
        using var train = Bars(4, seed: 1);
        using var test = Bars(4, seed: 2);
        var e = Assert.Throws<ArgumentException>(() => TrainingRun.Execute(Spec(epochs: 1, validationSplit: 0.1), train, test, Small))!;
        Assert.That(e.ParamName, Is.EqualTo("Data.ValidationSplit"));
        Assert.That(e.Message, Does.Contain("--validation-split 0.1 of 4 images leaves the validation split empty").And.Contain("--validation-split 0 for none"));
    }
}
