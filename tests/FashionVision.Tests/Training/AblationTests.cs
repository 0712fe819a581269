using System.Text.Json.Nodes;
using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Tests.Training;

public class AblationTests
{
    private const string Plan = """
        {
          // comments and trailing commas are allowed
          "name": "tiny",
          "seeds": [3, 4],
          "base": { "model": { "name": "fast-cnn", "width": 0.25 }, "training": { "epochs": 2, "optimizer": { "learningRate": 0.003 } } },
          "steps": [
            { "name": "+ augmentation", "set": { "training": { "augmentation": "basic" } } },
            { "name": "+ OneCycle", "set": { "training": { "scheduler": { "kind": "one-cycle", "interval": "Batch" } } } },
            { "name": "+ label smoothing", "set": { "Training": { "Loss": { "labelSmoothing": 0.1 } } } },
          ],
        }
        """;

    [Test]
    public void JsonPlanStepsApplyCumulatively()
    {
        var plan = AblationPlan.Parse(Plan);
        Assert.That(plan.Name, Is.EqualTo("tiny"));
        Assert.That(plan.Seeds, Is.EqualTo(new long[] { 3, 4 }));
        var rows = plan.CumulativeSettings();
        Assert.That(rows.Select(r => r.Name), Is.EqualTo(new[] { "baseline", "+ augmentation", "+ OneCycle", "+ label smoothing" }));

        var (_, _, baseline) = rows[0];
        Assert.That(baseline.Training.Optimizer.LearningRate, Is.EqualTo(0.003));
        Assert.That(baseline.Model.Width, Is.EqualTo(0.25));
        Assert.That((baseline.Training.Augmentation, baseline.Training.Scheduler.Kind, baseline.Training.Loss.LabelSmoothing), Is.EqualTo(("none", SchedulerKind.Constant, 0.0)));
        Assert.That(baseline.Data.ValidationSplit, Is.Zero, "ablations train on all the given images");

        var (_, change, last) = rows[3];
        Assert.That(change, Is.EqualTo("Training.Loss.labelSmoothing = 0.1"));
        Assert.That(last.Training.Augmentation, Is.EqualTo("basic"), "earlier steps stay applied");
        Assert.That((last.Training.Scheduler.Kind, last.Training.Scheduler.Interval), Is.EqualTo((SchedulerKind.OneCycle, SchedulerInterval.Batch)));
        Assert.That(last.Training.Loss.LabelSmoothing, Is.EqualTo(0.1));
        Assert.That(last.Training.Optimizer.LearningRate, Is.EqualTo(0.003), "a patch keeps the settings it does not name");
        Assert.That(last.Model.Width, Is.EqualTo(0.25));
        Assert.That(rows[1].Settings.Training.Scheduler.Kind, Is.EqualTo(SchedulerKind.Constant), "later steps do not leak backwards");
        Assert.That(rows[2].Description, Is.EqualTo("training.scheduler.kind = one-cycle, training.scheduler.interval = Batch"));

        var options = last.Training.ToTrainerOptions(numClasses: 10, flips: true);
        Assert.That(options.Augmentation!.Describe(), Does.Contain("RandomCrop"));
    }

    [Test]
    public void MergePatchNullRestoresTheDefault()
    {
        var settings = new RunSpec { Training = new TrainingSpec { EmaDecay = 0.99, Epochs = 5 } };
        var patched = settings.Patch(new JsonObject { ["training"] = new JsonObject { ["emaDecay"] = null, ["epochs"] = 6 } });
        Assert.That((patched.Training.EmaDecay, patched.Training.Epochs), Is.EqualTo(((double?)null, 6)));
    }

    [TestCase("""{ "base": { "lr": 0.1 } }""", "lr")]
    [TestCase("""{ "steps": [ { "name": "+ typo", "set": { "training": { "optimizer": { "learningrat": 1 } } } } ] }""", "+ typo")]
    [TestCase("""{ "steps": [ { "name": "+ wide", "set": { "model": { "name": "resnet-99" } } } ] }""", "resnet-99")]
    [TestCase("""{ "steps": [ { "name": "+ bad schedule", "set": { "training": { "scheduler": { "kind": "sometimes" } } } } ] }""", "OneCycle")]
    [TestCase("""{ "steps": [ { "name": "+ nothing" } ] }""", "+ nothing")]
    [TestCase("""{ "seeds": [] }""", "seed")]
    [TestCase("""{ "seeds": [1, 1] }""", "repeat")]
    [TestCase("""{ "base": { "training": { "epochs": -1 } } }""", "Epochs")]
    [TestCase("""{ "base": { "training": { "augmentation": "wild" } } }""", "wild")]
    [TestCase("""[1, 2]""", "object")]
    [TestCase("""{ "name": """, "plan.json")]
    public void BadPlansNameTheFileAndTheProblem(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => AblationPlan.Parse(json, "plan.json"))!;
        Assert.That(e.Message, Does.StartWith("plan.json: "));
        Assert.That(e.Message, Does.Contain(expected));
    }

    [Test]
    public void RunnerTrainsEveryCumulativeStepWithEverySeedReproducibly()
    {
        using var train = TrainingTestKit.Bars(320, seed: 1);
        using var test = TrainingTestKit.Bars(150, seed: 2);
        // Step 1 cripples the learning rate; step 2 adds an epoch on top. Cumulative application means step 2 still
        // cannot learn, while the baseline does.
        var plan = new AblationPlan
        {
            Name = "tiny",
            Seeds = [0, 1],
            Base = AblationPlan.DefaultBase with
            {
                Model = new ModelSpec { Name = ModelZoo.FastCnnName, Width = 0.25 },
                Training = AblationPlan.DefaultBase.Training with { Epochs = 2, BatchSize = 32, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } },
            },
            Steps =
            [
                new AblationStep("+ tiny lr", s => s with { Training = s.Training with { Optimizer = s.Training.Optimizer with { LearningRate = 1e-7 } } }, "lr 1e-7"),
                new AblationStep("+ one more epoch", s => s with { Training = s.Training with { Epochs = s.Training.Epochs + 1 } }),
            ],
        };
        var reports = new List<AblationProgress>();

        var result = AblationRunner.Run(plan, train, test, new AblationRunOptions { Progress = new Collect(reports) });

        Assert.That(result.Rows.Select(r => r.Name), Is.EqualTo(new[] { "baseline", "+ tiny lr", "+ one more epoch" }));
        Assert.That(result.Rows.Select(r => r.Runs.Select(run => run.Seed)), Is.All.EqualTo(new long[] { 0, 1 }));
        Assert.That(result.Rows[0].MeanAccuracy, Is.GreaterThan(0.8), "the baseline learns the bars");
        Assert.That(result.Rows[1].MeanAccuracy, Is.LessThan(0.6), "the crippled step does not");
        Assert.That(result.Rows[2].MeanAccuracy, Is.LessThan(0.6), "step 2 keeps step 1's change");
        Assert.That(result.Rows[2].Settings.Training.Epochs, Is.EqualTo(3));

        var row = result.Rows[1];
        Assert.That(row.DeltaFromPrevious, Is.EqualTo(row.MeanAccuracy - result.Rows[0].MeanAccuracy).Within(1e-12));
        Assert.That(result.Rows[2].DeltaFromBaseline, Is.EqualTo(result.Rows[2].MeanAccuracy - result.Rows[0].MeanAccuracy).Within(1e-12));
        var accuracies = row.Runs.Select(r => r.Accuracy).ToArray();
        Assert.That(row.AccuracySpread, Is.EqualTo(Math.Abs(accuracies[0] - accuracies[1]) / Math.Sqrt(2)).Within(1e-12));
        Assert.That(reports.Count(r => r.Completed is not null), Is.EqualTo(6));
        Assert.That(reports.Any(r => r.Training is { EpochCompleted: true }), Is.True);

        var markdown = result.ToMarkdown().Split('\n');
        Assert.That(markdown[0], Does.StartWith("| step | change | test accuracy (mean ± sd, 2 seeds) | Δ previous (pp) |"));
        Assert.That(markdown[2], Does.StartWith($"| 0 | baseline | {result.Rows[0].MeanAccuracy * 100:0.00}% ± ").And.Contain("| — | — |"));
        Assert.That(markdown[3], Does.StartWith("| 1 | + tiny lr (`lr 1e-7`) |").And.Contain("−"));

        var again = AblationRunner.Run(plan, train, test);
        Assert.That(again.Rows.SelectMany(r => r.Runs.Select(run => run.Accuracy)), Is.EqualTo(result.Rows.SelectMany(r => r.Runs.Select(run => run.Accuracy))),
            "fixed seeds reproduce every run");
    }

    private sealed class Collect(List<AblationProgress> reports) : IProgress<AblationProgress>
    {
        public void Report(AblationProgress value) => reports.Add(value);
    }
}
