using System.CommandLine;
using System.Text.Json;
using FashionVision.Cli.Commands;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Tests.Shared;
using FashionVision.Training;
using FashionVision.Visualization;

namespace FashionVision.Cli.Tests;

/// <summary>
/// Every option of <c>train --help</c> works: each enumerated choice (scheduler, optimizer, loss, augmentation preset,
/// dataset, the cheap models) trains for one short epoch on a tiny real subset, and the workflow options (validation split,
/// early stopping, the overfitting warning, TensorBoard, resume) do what they say. A test fails when an option is added to
/// <c>train</c> without a run here that uses it.
/// </summary>
[TestFixture]
public sealed class TrainOptionTests
{
    /// <summary>One CLI run: a name and the arguments after <c>train</c> (the run folder is added).</summary>
    public sealed record Run(string Name, params string[] Arguments)
    {
        public override string ToString() => Name;
    }

    private static readonly string[] Tiny = ["--epochs", "1", "--batch-size", "32", "--max-train-images", "128", "--max-test-images", "60", "--validation-split", "0.25"];

    /// <summary>
    /// Nine runs cover the six schedulers; across them every optimizer, loss, augmentation preset and both datasets appear
    /// at least once, and nine cheap models.
    /// </summary>
    public static readonly Run[] ChoiceRuns =
    [
        new("constant", [.. Tiny, "--scheduler", "constant", "--optimizer", "adamw", "--loss", "arcface", "--augmentation", "none", "--model", "lenet5",
            "--warmup-steps", "2", "--tensorboard", "{folder}/tensorboard", "--device", "cpu", "--seed", "7", "--lr", "0.003"]),
        new("step", [.. Tiny, "--scheduler", "step", "--optimizer", "adam", "--loss", "focal", "--augmentation", "basic", "--model", "small-cnn",
            "--label-smoothing", "0.1", "--weight-decay", "0"]),
        new("cosine", [.. Tiny, "--scheduler", "cosine", "--optimizer", "sgd", "--loss", "cross-entropy", "--augmentation", "standard", "--model", "fast-cnn",
            "--lr", "0.05", "--data-dir", "{fashion-mnist}"]),
        new("cosine-restarts", [.. Tiny, "--scheduler", "cosine-restarts", "--optimizer", "adamw", "--loss", "focal", "--augmentation", "strong", "--model", "mobilenet"]),
        new("onecycle", [.. Tiny, "--scheduler", "onecycle", "--optimizer", "adam", "--loss", "center", "--center-loss-weight", "0.005", "--augmentation", "trivial", "--model", "vgg-cnn",
            "--dataset", "mnist"]),
        new("plateau", [.. Tiny, "--scheduler", "plateau", "--optimizer", "sgd", "--loss", "focal", "--augmentation", "jitter", "--model", "resnet18",
            "--lr", "0.05", "--early-stopping", "1", "--dataset", "fashion-mnist"]),
        new("randaugment", [.. Tiny, "--scheduler", "cosine", "--optimizer", "adamw", "--loss", "cross-entropy", "--augmentation", "randaugment", "--model", "small-vit"]),
        new("autoaugment", [.. Tiny, "--scheduler", "onecycle", "--optimizer", "adamw", "--loss", "cross-entropy", "--augmentation", "autoaugment", "--model", "fast-resnet"]),
        new("mixup", [.. Tiny, "--scheduler", "onecycle", "--optimizer", "adamw", "--loss", "cross-entropy", "--augmentation", "mixup", "--model", "small-cnn"]),
    ];

    /// <summary>Runs for the workflow options, checked by their own tests below.</summary>
    public static readonly Run NoValidation = new("no-validation", "--epochs", "1", "--batch-size", "32", "--max-train-images", "96", "--max-test-images", "40",
        "--model", "lenet5", "--validation-split", "0", "--threads", "1");

    /// <summary>48 training images for 6 epochs at a high rate: the model memorises them and the validation loss pulls away.</summary>
    public static readonly Run Overfit = new("overfit", "--epochs", "6", "--batch-size", "16", "--max-train-images", "96", "--max-test-images", "40",
        "--model", "lenet5", "--validation-split", "0.5", "--lr", "0.01", "--scheduler", "constant", "--overfitting-threshold", "0.1", "--seed", "3");

    /// <summary>
    /// The speedrun options on fast-cnn: a whitened stem, bfloat16 convolutions, a 30-minute budget (so the schedule follows
    /// the steps) and a target any trained model reaches after one epoch, so the second of the three never runs.
    /// </summary>
    public static readonly Run AgainstTheClock = new("against-the-clock", "--epochs", "3", "--batch-size", "32", "--max-train-images", "128",
        "--max-test-images", "40", "--model", "fast-cnn", "--validation-split", "0.25", "--precision", "bfloat16", "--whiten",
        "--time-budget", "30m", "--stop-at-accuracy", "0.01");

    private static IEnumerable<Run> AllRuns => ChoiceRuns.Append(NoValidation).Append(Overfit).Append(AgainstTheClock);

    private readonly Dictionary<string, CliRunner.Result> _results = new();
    private string _root = "";
    private string? _fashionMnist;

    [OneTimeSetUp]
    public void FindData()
    {
        CliRunner.RequireFashionMnist();
        _fashionMnist = new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate();
        _root = CliRunner.NewFolder("fv-cli-options");
    }

    [OneTimeTearDown]
    public void RemoveRunFolders() => CliRunner.RemoveFolder(_root);

    private string Folder(Run run) => Path.Combine(_root, run.Name);

    /// <summary>Trains <paramref name="run"/> once; later tests read its result and run folder.</summary>
    private CliRunner.Result Train(Run run)
    {
        if (run.Arguments.Contains("mnist") && new MnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("MNIST is not installed (run eng/setup.sh)");
        if (!_results.TryGetValue(run.Name, out var result))
        {
            var args = run.Arguments.Select(a => a.Replace("{folder}", Folder(run)).Replace("{fashion-mnist}", _fashionMnist)).ToList();
            result = CliRunner.Run(["train", .. args, "--output", Folder(run)]);
            _results[run.Name] = result;
        }
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        return result;
    }

    private JsonElement Metrics(Run run)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(run), RunFiles.MetricsFile)));
        return json.RootElement.Clone();
    }

    [TestCaseSource(nameof(ChoiceRuns))]
    public void EveryChoiceTrainsForOneShortEpochWithValidation(Run run)
    {
        var result = Train(run);
        var metrics = Metrics(run);
        var epoch = metrics.GetProperty("history")[0];
        Assert.Multiple(() =>
        {
            Assert.That(result.Output, Does.Contain("epoch 1/1: loss").And.Contain("; validation loss"));
            Assert.That(metrics.GetProperty("history").GetArrayLength(), Is.EqualTo(1));
            Assert.That(epoch.GetProperty("validationAccuracy").GetDouble(), Is.InRange(0.0, 1.0));
            Assert.That(metrics.GetProperty("dataset").GetProperty("trainImages").GetInt64() + metrics.GetProperty("dataset").GetProperty("validationImages").GetInt64(),
                Is.EqualTo(128), "the validation images come out of the training images");
            Assert.That(metrics.GetProperty("dataset").GetProperty("validationImages").GetInt64(), Is.EqualTo(32).Within(3));
            Assert.That(metrics.GetProperty("test").GetProperty("accuracy").GetDouble(), Is.InRange(0.0, 1.0));
            Assert.That(File.Exists(Path.Combine(Folder(run), "best.ckpt")), Is.True, "a validated run keeps its best epoch");
            Assert.That(File.Exists(Path.Combine(Folder(run), "last.ckpt")), Is.True);
        });
    }

    [Test]
    public void EveryOptionOfTrainIsExercised()
    {
        var train = TrainCommand.Create(new CliContext(TextWriter.Null, TextWriter.Null, CancellationToken.None));
        var used = AllRuns.SelectMany(r => r.Arguments).Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToHashSet();
        // Options whose own features have their own test classes (transfer, compression, your own data, resume checks,
        // recipes): every option must at least be passed to `train` by some test of this project.
        used.UnionWith(OptionsPassedToTrainInThisProject());
        var untested = train.Options.Select(o => o.Name).Where(name => !used.Contains(name)).ToList();
        Assert.That(untested, Is.Empty, "train options no test of the CLI passes to train");

        string[] enumerated = ["--scheduler", "--optimizer", "--loss", "--augmentation", "--dataset"];
        foreach (var option in train.Options.Where(o => enumerated.Contains(o.Name)))
        {
            var choices = option.Description!.Split('(')[^1].TrimEnd(')').Split(", ");
            var tried = ChoiceRuns.SelectMany(r => r.Arguments.SkipWhile(a => a != option.Name).Skip(1).Take(1)).ToHashSet();
            Assert.That(choices, Is.SubsetOf(tried), $"every {option.Name} choice trains in one of the runs");
        }
    }

    // The "--name" literals of every test source file in this project that runs `train`. The sources are found from the
    // test assembly's folder upwards (a CI build maps source paths to /_/, so the caller's file path cannot be used).
    private static HashSet<string> OptionsPassedToTrainInThisProject()
    {
        var options = new HashSet<string>(StringComparer.Ordinal);
        var project = new DirectoryInfo(AppContext.BaseDirectory);
        while (project is not null && !File.Exists(Path.Combine(project.FullName, "FashionVision.Cli.Tests.csproj")))
            project = project.Parent;
        Assert.That(project, Is.Not.Null, $"the test project's sources above {AppContext.BaseDirectory}");
        foreach (var file in Directory.EnumerateFiles(project!.FullName, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
        {
            string text = File.ReadAllText(file);
            if (!text.Contains("\"train\"", StringComparison.Ordinal))
                continue;
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, "\"(--[a-z][a-z0-9-]*)\""))
                options.Add(m.Groups[1].Value);
        }
        return options;
    }

    [Test]
    public void PlateauAndEarlyStoppingWithoutValidationAreRefusedInOneLine()
    {
        string output = Path.Combine(_root, "refused");
        var plateau = CliRunner.Run("train", "--scheduler", "plateau", "--validation-split", "0", "--max-train-images", "64", "--output", output);
        CliRunner.AssertOneLineError(plateau, CliApp.UsageError, "--scheduler plateau");
        Assert.That(plateau.Error, Does.Contain("--validation-split"));
        var stopping = CliRunner.Run("train", "--early-stopping", "2", "--validation-split", "0", "--max-train-images", "64", "--output", output);
        CliRunner.AssertOneLineError(stopping, CliApp.UsageError, "--early-stopping");
    }

    [Test]
    public void EarlyStoppingKeepsTheBestEpochsCheckpointAsTheEvaluatedOne()
    {
        var plateau = ChoiceRuns.Single(r => r.Name == "plateau");
        Train(plateau);
        var metrics = Metrics(plateau);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.GetProperty("bestEpoch").GetInt32(), Is.EqualTo(1));
            Assert.That(metrics.GetProperty("checkpoint").GetString(), Is.EqualTo("best.ckpt"), "early stopping restored the best weights, which best.ckpt holds");
            Assert.That(metrics.GetProperty("bestCheckpoint").GetString(), Is.EqualTo("best.ckpt"));
        });
    }

    [Test]
    public void WithoutValidationNothingIsHeldOutAndThereIsNoBestCheckpoint()
    {
        var result = Train(NoValidation);
        var metrics = Metrics(NoValidation);
        Assert.Multiple(() =>
        {
            Assert.That(metrics.GetProperty("dataset").GetProperty("trainImages").GetInt64(), Is.EqualTo(96));
            Assert.That(metrics.GetProperty("dataset").GetProperty("validationImages").GetInt64(), Is.Zero);
            Assert.That(result.Output, Does.Not.Contain("validation loss"));
            Assert.That(File.Exists(Path.Combine(Folder(NoValidation), "best.ckpt")), Is.False);
            Assert.That(metrics.GetProperty("checkpoint").GetString(), Is.EqualTo("last.ckpt"));
            Assert.That(metrics.GetProperty("run").GetProperty("threads").GetInt32(), Is.EqualTo(1), "--threads 1 is recorded");
        });
    }

    [Test]
    public void TheOverfittingWarningIsPrintedOnceAndRecorded()
    {
        var result = Train(Overfit);
        var metrics = Metrics(Overfit);
        var warnings = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(warnings, Has.Length.EqualTo(1), result.ToString());
            Assert.That(warnings[0], Does.StartWith("warning: Overfitting at epoch ").And.Contain("above the training loss"));
            Assert.That(metrics.GetProperty("warnings").GetArrayLength(), Is.EqualTo(1));
            Assert.That(File.ReadAllText(Path.Combine(Folder(Overfit), RunFiles.ReportFile)), Does.Contain("- warning: epoch "));
        });
    }

    [Test]
    public void MetricsJsonHoldsEveryBatchAndTheCurvesAreDrawnPerBatch()
    {
        Train(Overfit);
        var metrics = Metrics(Overfit);
        var steps = metrics.GetProperty("steps");
        // Full batches of 16 (the last, smaller one is dropped); the stratified split rounds per class.
        long batches = metrics.GetProperty("dataset").GetProperty("trainImages").GetInt64() / 16;
        var epochAxis = steps.GetProperty("epoch").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var loss = steps.GetProperty("loss").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var smoothed = steps.GetProperty("smoothedLoss").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(batches, Is.InRange(2, 3), "about 48 images in batches of 16");
            Assert.That(epochAxis, Has.Length.EqualTo(6 * batches), "every batch of 6 epochs");
            Assert.That(epochAxis[^1], Is.EqualTo(6.0).Within(1e-9));
            Assert.That(loss, Has.Length.EqualTo(6 * batches));
            Assert.That(smoothed, Has.Length.EqualTo(6 * batches));
            Assert.That(steps.GetProperty("learningRate").EnumerateArray().Select(e => e.GetDouble()), Is.All.EqualTo(0.01).Within(1e-12));
            Assert.That(smoothed[^1], Is.LessThan(smoothed[0]), "the smoothed loss falls");
        });
    }

    [Test]
    public void TensorBoardGetsScalarsPerBatchAndEpochAndTheImages()
    {
        var run = ChoiceRuns.Single(r => r.Name == "constant");
        var result = Train(run);
        string directory = Path.Combine(Folder(run), "tensorboard");
        string file = TensorBoardEventFile.Single(directory);
        var scalars = TensorBoardEventFile.Scalars(file);
        var images = TensorBoardEventFile.Images(file);
        var metrics = Metrics(run);
        long batches = metrics.GetProperty("dataset").GetProperty("trainImages").GetInt64() / 32;
        Assert.Multiple(() =>
        {
            Assert.That(result.Output, Does.Contain($"tensorboard --logdir {directory}"));
            Assert.That(batches, Is.InRange(2, 3), "about 96 training images in full batches of 32");
            Assert.That(scalars.Count(s => s.Tag == TensorBoardLogger.BatchLossTag), Is.EqualTo(batches));
            Assert.That(scalars.Count(s => s.Tag == TensorBoardLogger.LearningRateTag), Is.EqualTo(batches));
            Assert.That(scalars.Single(s => s.Tag == TensorBoardLogger.ValidationAccuracyTag).Value,
                Is.EqualTo(metrics.GetProperty("history")[0].GetProperty("validationAccuracy").GetDouble()).Within(1e-6));
            Assert.That(scalars.Single(s => s.Tag == "accuracy/test").Value, Is.EqualTo(metrics.GetProperty("test").GetProperty("accuracy").GetDouble()).Within(1e-6));
            Assert.That(images.Select(i => i.Tag), Is.EquivalentTo(new[] { TensorBoardImageLogger.SamplesTag, TensorBoardImageLogger.ValidationConfusionTag, "confusion_matrix/test", "mistakes/test" }));
            Assert.That(images.Where(i => i.Tag != TensorBoardImageLogger.SamplesTag).Select(i => i.Step), Is.All.EqualTo(batches), "at the last batch");
        });
    }

    [Test]
    public void ResumeContinuesWithTheStepHistory()
    {
        var original = ChoiceRuns.Single(r => r.Name == "step");
        Train(original);
        var resumed = new Run("resumed", original.Arguments);
        string folder = Folder(resumed);
        var result = CliRunner.Run(["train", .. original.Arguments, "--output", folder, "--resume", Path.Combine(Folder(original), "last.ckpt")]);
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, RunFiles.MetricsFile)));
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("steps").GetProperty("loss").GetArrayLength(),
                Is.EqualTo(Metrics(original).GetProperty("steps").GetProperty("loss").GetArrayLength()).And.GreaterThan(0), "the checkpoint brought the batches it had trained");
            Assert.That(json.RootElement.GetProperty("test").GetProperty("accuracy").GetDouble(),
                Is.EqualTo(Metrics(original).GetProperty("test").GetProperty("accuracy").GetDouble()), "nothing left to train: the same weights");
        });
    }

    [Test]
    public void TheSpeedrunOptionsTrainInBFloat16FromAWhitenedStemAgainstABudgetAndStopAtTheTarget()
    {
        Train(AgainstTheClock);
        var metrics = Metrics(AgainstTheClock);
        var spec = metrics.GetProperty("spec");
        Assert.Multiple(() =>
        {
            Assert.That(metrics.GetProperty("history").GetArrayLength(), Is.EqualTo(1), "the first epoch reaches the target");
            Assert.That(spec.GetProperty("training").GetProperty("precision").GetString(), Is.EqualTo("BFloat16"));
            Assert.That(metrics.GetProperty("run").GetProperty("precision").GetString(), Is.EqualTo("bfloat16"));
            Assert.That(spec.GetProperty("model").GetProperty("whitenStem").GetBoolean(), Is.True);
            Assert.That(spec.GetProperty("training").GetProperty("timeBudgetSeconds").GetDouble(), Is.EqualTo(1800));
        });
    }

    [TestCase("--time-budget", "soon", "--time-budget")]
    [TestCase("--stop-at-accuracy", "1.5", "--stop-at-accuracy")]
    [TestCase("--precision", "float8", "precision")]
    public void BadSpeedrunOptionsAreRefusedInOneLine(string option, string value, string named)
    {
        var result = CliRunner.Run("train", option, value, "--max-train-images", "64");
        Assert.That(result.ExitCode, Is.EqualTo(CliApp.UsageError), result.ToString());
        Assert.That(result.Error, Does.Contain(named));
    }

    [Test]
    public void BFloat16IsRefusedForAModelThatComputesInFloat32Only()
    {
        var result = CliRunner.Run("train", "--model", "lenet5", "--precision", "bfloat16", "--epochs", "1", "--max-train-images", "64", "--max-test-images", "20",
            "--output", Path.Combine(_root, "lenet-bf16"));
        Assert.That(result.ExitCode, Is.EqualTo(CliApp.UsageError), result.ToString());
        Assert.That(result.Error, Does.Contain("lenet5 computes in float32 only"));
    }
}
