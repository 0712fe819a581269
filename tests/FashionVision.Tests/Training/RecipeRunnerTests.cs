using FashionVision.Data;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

public class RecipeRunnerTests
{
    private static Recipe Tiny(TrainerOptions options, Action<ImageClassifier, InMemoryDataset, ChannelStatistics?>? initialize = null) => new(
        "tiny", "bars", "FastCnn width 4 on bars",
        (channels, classes) => new FastCnn(channels, classes, width: 4, dropRate: 0),
        options,
        AugmentationPreset: "none",
        Tta: TestTimeAugmentation.HorizontalFlip,
        TargetAccuracy: 0.9) { Initialize = initialize };

    [Test]
    public void RunsTheRecipeEndToEndAndHandsTheInitialiserTheTrainingStatistics()
    {
        using var train = Bars(128, seed: 1);
        using var test = Bars(64, seed: 2);
        ChannelStatistics? seen = null;
        var recipe = Tiny(new TrainerOptions { Epochs = 6, BatchSize = 16, Seed = 1, Optimizer = new OptimizerOptions { LearningRate = 0.01 } },
            (model, data, stats) =>
            {
                seen = stats;
                ConvInitialization.WhitenFirstConvolution(model, data, stats, sampleSize: 64);
            });
        var result = RecipeRunner.Run(recipe, train, test);
        using var model = result.Model;

        Assert.That(seen, Is.EqualTo(result.Normalization), "the initialiser sees the statistics the trainer normalises with");
        Assert.That(result.History.Epochs, Has.Count.EqualTo(6));
        Assert.That(result.Evaluation.Count, Is.EqualTo(64));
        Assert.That(result.Evaluation.Accuracy, Is.GreaterThan(0.8));
        Assert.That(result.ImagesTrained, Is.EqualTo(6 * 8 * 16));
    }

    [Test]
    public void ABudgetedRecipeReservesItsTestEvaluationInsideTheBudget()
    {
        using var train = Bars(64, seed: 1);
        using var test = Bars(48, seed: 2);
        var clock = new TimeBudgetTests.FakeClock(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));
        // One second per 8-image batch; an evaluated image costs 1/24 s on the fake clock (a forward hook charges it), so
        // 48 test images × 2 views = 4 s are reserved and the probe (a warm-up and two timed batches of 8) takes 1 s:
        // training has 20 − 4 − 1 = 15 s, and step 16 would end past them.
        var recipe = Tiny(new TrainerOptions
        {
            Epochs = 100,
            BatchSize = 8,
            EvaluationBatchSize = 8,
            TimeBudget = new TimeBudget(TimeSpan.FromSeconds(20)),
            TimeProvider = clock,
            Callbacks = new TrainerCallback[] { new Tick(clock) },
        }, (model, _, _) => model.register_forward_hook((m, _, output) =>
        {
            if (!m.training)
                clock.Advance(TimeSpan.FromSeconds(output.shape[0] / 24.0));
            return output;
        }));
        var result = RecipeRunner.Run(recipe, train, test, new RecipeRunOptions { BudgetStartedAt = clock.Start });
        using var model = result.Model;
        Assert.That(result.ImagesTrained, Is.EqualTo(15 * 8));
    }

    private sealed class Tick(TimeBudgetTests.FakeClock clock) : TrainerCallback
    {
        public override void OnBatchStart(Trainer trainer, int epoch, int batch) => clock.Advance(TimeSpan.FromSeconds(1));
    }
}
