using System.Text.Json.Nodes;
using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Tests.Training;

/// <summary>The run spec: JSON that round-trips, choices checked when read, validation that names the setting.</summary>
public class RunSpecTests
{
    private static readonly RunSpec Full = new()
    {
        Recipe = "custom",
        Data = new DataSpec
        {
            Dataset = "clothes",
            Own = new OwnDataSpec { Kind = OwnDataKind.Folder, Path = "/data/clothes", Channels = 3, Height = 32, Width = 32, Style = "fashion-mnist", TestSplit = 0.25 },
            MaxTrainImages = 500,
            ValidationSplit = 0.2,
            HorizontalFlips = false,
        },
        Model = new ModelSpec { Name = "resnet18", Width = 0.5, InputSize = 64, CosineScale = 30 },
        Training = new TrainingSpec
        {
            Epochs = 3,
            Precision = ComputePrecision.BFloat16,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1, Nesterov = true },
            Scheduler = SchedulerOptions.For(SchedulerKind.CosineWarmRestarts, epochs: 9),
            Loss = new LossOptions { Kind = LossKind.ArcFace, ArcFaceMargin = 0.2 },
            Augmentation = "crop2",
            ClassWeights = "Shirt=2",
            TimeBudgetSeconds = 120,
            EarlyStoppingPatience = 3,
        },
        Evaluation = new EvaluationSpec { Tta = "flip,shift1" },
        Output = new OutputSpec { Folder = "/runs/x", TensorBoard = "/runs/tb" },
    };

    [Test]
    public void ASpecRoundTripsThroughJson()
    {
        string json = Full.ToJson();
        var read = RunSpec.Parse(json);
        Assert.That(read.ToJson(), Is.EqualTo(json));
        Assert.That(read.Training.Scheduler.T0, Is.EqualTo(3));
        Assert.That(read.Data.Own, Is.EqualTo(Full.Data.Own));
        Assert.That(json, Does.Contain("\"kind\": \"CosineWarmRestarts\"").And.Contain("\"precision\": \"BFloat16\""));
    }

    [TestCase("""{ "training": { "optimizer": { "kind": "rmsprop" } } }""", "rmsprop", "Sgd, Adam, AdamW")]
    [TestCase("""{ "training": { "precision": "fp16" } }""", "fp16", "Float32, BFloat16, Auto")]
    [TestCase("""{ "training": { "epoch": 3 } }""", "epoch", "$.training")]
    [TestCase("""{ "model": { "name": "resnet-99" } }""", "resnet-99", "fast-cnn")]
    [TestCase("""{ "training": { "augmentation": "wild" } }""", "wild", "crop1")]
    [TestCase("""{ "evaluation": { "tta": "rotate" } }""", "rotate", "Evaluation.Tta")]
    [TestCase("""{ "data": { "validationSplit": 0 }, "training": { "earlyStoppingPatience": 2 } }""", "EarlyStoppingPatience", "Data.ValidationSplit")]
    [TestCase("""{ "data": { "dataset": "mnist" }, "training": { "augmentation": "flip" } }""", "mirrors", "HorizontalFlips")]
    public void BadSpecsNameTheSourceTheSettingAndTheValidChoices(string json, string bad, string help)
    {
        var e = Assert.Throws<InvalidDataException>(() => RunSpec.Parse(json, "spec.json"))!;
        Assert.That(e.Message, Does.StartWith("spec.json"));
        Assert.That(e.Message, Does.Contain(bad).And.Contain(help));
        Assert.That(e.Message, Does.Not.Contain("(Parameter"), "one line, without the exception's parameter suffix");
    }

    [Test]
    public void ValidationNamesThePathOfTheSettingAtFault()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => (Full with { Training = Full.Training with { BatchSize = 0 } }).Validate())!;
        Assert.That(e.ParamName, Is.EqualTo("Training.BatchSize"));
        var nested = Assert.Catch<ArgumentException>(() => (Full with { Training = Full.Training with { Optimizer = new OptimizerOptions { LearningRate = -1 } } }).Validate())!;
        Assert.That(nested.ParamName, Does.StartWith("Training.Optimizer"));
    }

    [Test]
    public void APatchMergesObjectsReplacesValuesAndNullRestoresTheDefault()
    {
        var patched = Full.Patch(new JsonObject
        {
            ["training"] = new JsonObject { ["epochs"] = 7, ["timeBudgetSeconds"] = null, ["optimizer"] = new JsonObject { ["learningRate"] = 0.05 } },
        });
        Assert.That(patched.Training.Epochs, Is.EqualTo(7));
        Assert.That(patched.Training.TimeBudgetSeconds, Is.Null);
        Assert.That(patched.Training.Optimizer.LearningRate, Is.EqualTo(0.05));
        Assert.That((patched.Training.Optimizer.Kind, patched.Training.Optimizer.Nesterov), Is.EqualTo((OptimizerKind.Sgd, true)), "siblings of a patched value stay");
        Assert.That(patched.Model, Is.EqualTo(Full.Model));
    }

    [Test]
    public void DifferencesListEveryChangedSettingButNotTheOutput()
    {
        var other = Full with
        {
            Training = Full.Training with { Seed = 4, Optimizer = Full.Training.Optimizer with { LearningRate = 0.2 } },
            Output = new OutputSpec { Folder = "/elsewhere" },
        };
        var differences = other.DifferencesFrom(Full);
        Assert.That(differences.Select(d => d.Path), Is.EquivalentTo(new[] { "training.seed", "training.optimizer.learningRate" }));
        var lr = differences.Single(d => d.Path == "training.optimizer.learningRate");
        Assert.That((lr.Saved, lr.Current), Is.EqualTo(("0.1", "0.2")));
        Assert.That(Full.DifferencesFrom(Full with { Output = new OutputSpec() }), Is.Empty);
    }

    [Test]
    public void ScheduleDefaultsLiveInTheLibrary()
    {
        var step = SchedulerOptions.For(SchedulerKind.Step, epochs: 9);
        Assert.That((step.StepSize, step.Gamma, step.Interval), Is.EqualTo((3, 0.1, SchedulerInterval.Epoch)));
        Assert.That(SchedulerOptions.For(SchedulerKind.ReduceOnPlateau, 10).PlateauPatience, Is.EqualTo(2));
        Assert.That(SchedulerOptions.For(SchedulerKind.OneCycle, 10, warmupSteps: 5), Is.EqualTo(new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch, WarmupSteps = 5 }));
        Assert.That(SchedulerOptions.For(SchedulerKind.CosineWarmRestarts, 1).T0, Is.EqualTo(1), "never a zero-length cycle");
    }
}
