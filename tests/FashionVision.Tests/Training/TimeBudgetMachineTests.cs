using FashionVision.Training;
using static FashionVision.Tests.Training.TimeBudgetTests;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

/// <summary>
/// A time budget on machines of every speed, on a fake clock that the model itself advances (<see cref="ClockedNet"/>):
/// warm-up, a slow machine, a sudden slowdown, an evaluation dearer than training, and budgets too short to train. Each
/// run must train until (close to) its deadline, leave the measured evaluation time free, and end with the schedule
/// annealed, or say clearly that the budget is too short.
/// </summary>
public class TimeBudgetMachineTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private const int Reserved = 48;
    private const double PeakLearningRate = 0.01;

    private sealed record Run(long Steps, IReadOnlyList<double> LearningRates, TrainingHistory History, double EndSeconds);

    // 64 images in batches of 8 (8 steps an epoch), a OneCycle schedule over at most 100 epochs (800 steps), the test
    // evaluation of 48 images reserved inside the budget, evaluation batches of 16.
    private static Run Train(FakeClock clock, ClockedNet model, TimeSpan total, params TrainerCallback[] callbacks)
    {
        using var train = Bars(64);
        var options = new TrainerOptions
        {
            Epochs = 100,
            BatchSize = 8,
            EvaluationBatchSize = 16,
            Seed = 3,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = PeakLearningRate },
            Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch, PctStart = 0.25 },
            TimeBudget = new TimeBudget(total) { StartedAt = T0, ReserveForImages = Reserved },
            TimeProvider = clock,
            Callbacks = callbacks,
        };
        var learningRates = new List<double>();
        using var trainer = new Trainer(model, options);
        trainer.BatchEnd += (_, _) => learningRates.Add(trainer.Optimizer!.ParamGroups.First().LearningRate);
        var history = trainer.Fit(train);
        return new Run(trainer.GlobalStep, learningRates, history, (clock.GetUtcNow() - T0).TotalSeconds);
    }

    /// <summary>The run used its window: the evaluation fits after it, less than one (slowest) step was left unused, and the schedule ended annealed.</summary>
    private static void AssertTrainedToTheDeadlineAndAnnealed(Run run, double totalSeconds, double evalSecondsPerImage, double slowestStepSeconds)
    {
        double evaluationEnds = run.EndSeconds + Reserved * evalSecondsPerImage;
        Assert.That(evaluationEnds, Is.LessThanOrEqualTo(totalSeconds + 1e-9), "the evaluation after training ends within the budget");
        Assert.That(evaluationEnds, Is.GreaterThan(totalSeconds - slowestStepSeconds), "no more than one step's time is left unused");
        Assert.That(run.History.StopReason, Does.Contain("time budget"));
        double final = PeakLearningRate * new OneCycleLR(800, pctStart: 0.25).Factor(800);
        Assert.That(run.LearningRates[^1], Is.EqualTo(final).Within(1e-12), "the schedule ends at its final learning rate");
        Assert.That(run.LearningRates[^2], Is.LessThan(0.05 * PeakLearningRate), "the last step trains at an annealed learning rate");
    }

    [TestCase(1)]
    [TestCase(10)]
    public void AMachineOfAnySpeedTrainsToTheDeadlineAndEndsAnnealed(double slowdown)
    {
        // The reference machine takes 0.1 s a step (0.6 s the first) and 0.1 s per 48 evaluated images; the other, ten times that.
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock)
        {
            TrainSecondsPerImage = slowdown * 0.1 / 8,
            WarmupSeconds = slowdown * 0.5,
            EvalSecondsPerImage = slowdown * 0.1 / Reserved,
        };
        var run = Train(clock, model, TimeSpan.FromSeconds(60));
        // 60 s less the reserve, the probe and the warm-up (0.7 s on the reference machine) is left for 0.1-s steps.
        Assert.That(run.Steps, Is.GreaterThanOrEqualTo(Math.Floor((60 - 0.7 * slowdown) / (0.1 * slowdown)) - 2), "it trains for all of its window");
        AssertTrainedToTheDeadlineAndAnnealed(run, 60, model.EvalSecondsPerImage, slowdown * 0.1);
    }

    [Test]
    public void ASlowFirstStepIsWarmUpNotTheRate()
    {
        // The first step takes 31 s of a 60-s budget, the others 1 s: taken for the rate, it would end the run at once.
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock) { TrainSecondsPerImage = 1.0 / 8, WarmupSeconds = 30, EvalSecondsPerImage = 1.0 / Reserved };
        var run = Train(clock, model, TimeSpan.FromSeconds(60));
        Assert.That(run.Steps, Is.EqualTo(27), "60 s − 1 s reserved − 1 s probe − 31 s first step ≈ 27 s: 26 more one-second steps fit");
        AssertTrainedToTheDeadlineAndAnnealed(run, 60, model.EvalSecondsPerImage, 1);
    }

    [Test]
    public void ASuddenSlowdownMidRunStillEndsBeforeTheDeadline()
    {
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock) { TrainSecondsPerImage = 1.0 / 8, EvalSecondsPerImage = 1.0 / Reserved };
        var slowdown = new SlowDownAfter(20, model, factor: 3);
        var run = Train(clock, model, TimeSpan.FromSeconds(60), slowdown);
        Assert.That(run.Steps, Is.InRange(30, 32), "20 one-second steps, then three-second ones");
        AssertTrainedToTheDeadlineAndAnnealed(run, 60, model.EvalSecondsPerImage, 3);
    }

    [Test]
    public void AnEvaluationDearerThanTrainingIsReservedAtItsOwnCost()
    {
        // An evaluated image costs 0.25 s, twice a training image: 12 s reserved for 48 images, 12 s for the probe.
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock) { TrainSecondsPerImage = 1.0 / 8, EvalSecondsPerImage = 0.25 };
        var run = Train(clock, model, TimeSpan.FromSeconds(90));
        Assert.That(run.Steps, Is.InRange(64, 66));
        AssertTrainedToTheDeadlineAndAnnealed(run, 90, model.EvalSecondsPerImage, 1);
    }

    [Test]
    public void ABudgetTheEvaluationFillsIsTooShortToTrain()
    {
        // Evaluating 48 images takes 48 s, more than the 10-s budget.
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock) { TrainSecondsPerImage = 1.0 / 8, EvalSecondsPerImage = 1 };
        var e = Assert.Throws<TimeBudgetTooShortException>(() => Train(clock, model, TimeSpan.FromSeconds(10)))!;
        Assert.That(e.Reserve.TotalSeconds, Is.EqualTo(48).Within(1e-6));
        Assert.That(e.StepsTrained, Is.Zero);
        Assert.That(e.Message, Does.Contain("10 s").And.Contain("48 s reserved").And.Contain("left for training"));
    }

    [Test]
    public void ABudgetThatEndsDuringWarmUpIsTooShortToTrain()
    {
        // Five-second steps in a 20-s budget: the deadline comes before the rate has settled, which is no model worth returning.
        var clock = new FakeClock(T0);
        using var model = new ClockedNet(clock) { TrainSecondsPerImage = 5.0 / 8, EvalSecondsPerImage = 1e-3 };
        var e = Assert.Throws<TimeBudgetTooShortException>(() => Train(clock, model, TimeSpan.FromSeconds(20)))!;
        Assert.That(e.StepsTrained, Is.EqualTo(4));
        Assert.That(e.Message, Does.Contain("20 s").And.Contain("ran out after 4 steps"));
    }

    /// <summary>Makes every training image <paramref name="factor"/> times dearer once <paramref name="steps"/> steps are done.</summary>
    private sealed class SlowDownAfter(long steps, ClockedNet model, double factor) : TrainerCallback
    {
        private bool _done;

        public override void OnBatchStart(Trainer trainer, int epoch, int batch)
        {
            if (_done || trainer.GlobalStep < steps)
                return;
            model.TrainSecondsPerImage *= factor;
            _done = true;
        }
    }
}
