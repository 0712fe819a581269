using System.Text.Json;
using FashionVision.Data;
using FashionVision.Training;

namespace FashionVision.Cli.Tests;

/// <summary>
/// The compression workflows on real Fashion-MNIST from the command line: a small fast-cnn teacher is trained once, then
/// pruned and fine-tuned (<c>prune</c>), distilled into LeNet-5 (<c>train --teacher</c>), and exported with
/// quantization-aware training (<c>export --qat-epochs</c>); the pruned checkpoint and the ONNX files feed
/// <c>evaluate</c>, <c>export</c> and <c>predict</c>.
/// </summary>
[TestFixture]
public sealed class CompressionCommandTests
{
    private string _folder = "";
    private string _teacher = "";
    private CliRunner.Result _train = null!;

    [OneTimeSetUp]
    public void TrainTeacher()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-compress-" + Guid.NewGuid().ToString("N"));
        _train = CliRunner.Run("train", "--model", "fast-cnn", "--epochs", "1", "--batch-size", "64", "--lr", "0.004",
            "--max-train-images", "640", "--max-test-images", "200", "--seed", "5", "--output", Path.Combine(_folder, "teacher"));
        _teacher = Path.Combine(_folder, "teacher", "last.ckpt");
    }

    [OneTimeTearDown]
    public void RemoveFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void PruneWritesASmallerCheckpointThatEvaluateExportAndPredictRebuild()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string output = Path.Combine(_folder, "pruned");
        var prune = CliRunner.Run("prune", _teacher, "--keep", "0.5", "--fine-tune-epochs", "1", "--batch-size", "64",
            "--max-train-images", "640", "--max-test-images", "200", "--output", output);
        Assert.That(prune.ExitCode, Is.Zero, prune.ToString());
        Assert.That(prune.Output, Does.Contain("widths [24, 48, 96] → [12, 24, 48]"));
        Assert.That(prune.Output, Does.Contain("40,270"), "the hand-counted parameters of fast-cnn at widths 12-24-48");
        Assert.That(prune.Output, Does.Contain("pruned + 1 fine-tuning epoch"));

        string checkpoint = Path.Combine(output, "pruned.ckpt");
        var manifest = Checkpoint.ReadManifest(checkpoint);
        Assert.That(manifest.ModelName, Is.EqualTo("fast-cnn"));
        Assert.That(manifest.ZooModelOptions()!.ChannelWidths, Is.EqualTo(new[] { 12, 24, 48 }));
        using (var predictor = FashionVision.Inference.Predictor.FromCheckpoint(checkpoint))
            Assert.That(predictor.ClassNames, Has.Count.EqualTo(10), "the library rebuilds the pruned model from the CLI's checkpoint");

        var evaluate = CliRunner.Run("evaluate", checkpoint, "--max-test-images", "200");
        Assert.That(evaluate.ExitCode, Is.Zero, evaluate.ToString());
        Assert.That(evaluate.Output, Does.Contain("on 200 images"));

        string onnx = Path.Combine(output, "model.onnx");
        var export = CliRunner.Run("export", checkpoint, "--output", onnx);
        Assert.That(export.ExitCode, Is.Zero, export.ToString());
        var onnxEvaluation = CliRunner.Run("evaluate", onnx, "--max-test-images", "200");
        Assert.That(onnxEvaluation.ExitCode, Is.Zero, onnxEvaluation.ToString());
        // ONNX Runtime and TorchSharp agree on the pruned model's accuracy.
        Assert.That(AccuracyLine(onnxEvaluation.Output), Is.EqualTo(AccuracyLine(evaluate.Output)));
    }

    [Test]
    public void TrainWithATeacherDistils()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string output = Path.Combine(_folder, "student");
        var student = CliRunner.Run("train", "--model", "lenet5", "--epochs", "1", "--batch-size", "64", "--lr", "0.003",
            "--max-train-images", "320", "--max-test-images", "200", "--seed", "5", "--output", output,
            "--teacher", _teacher, "--distill-temperature", "3", "--distill-alpha", "0.7");
        Assert.That(student.ExitCode, Is.Zero, student.ToString());
        Assert.That(student.Output, Does.Contain("distilling from fast-cnn"));

        var manifest = Checkpoint.ReadManifest(Path.Combine(output, "last.ckpt"));
        var teacherManifest = Checkpoint.ReadManifest(_teacher);
        Assert.That(manifest.Normalization, Is.Not.Null);
        Assert.That(manifest.Normalization!.Mean, Is.EqualTo(teacherManifest.Normalization!.Mean), "the student uses the teacher's normalisation");
        Assert.That(manifest.RunSettings!.Loss, Does.StartWith("Distillation(T=3, alpha=0.7"));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")));
        Assert.That(metrics.RootElement.GetProperty("spec").GetProperty("training").GetProperty("distillation").GetProperty("teacher").GetString(), Is.EqualTo(_teacher));
        Assert.That(File.ReadAllText(Path.Combine(output, "report.md")), Does.Contain("distilled from"));
    }

    [Test]
    public void ExportWithQuantizationAwareTrainingWritesAnInt8ModelThatEvaluates()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string onnx = Path.Combine(_folder, "qat", "model.onnx");
        var export = CliRunner.Run("export", _teacher, "--output", onnx, "--int8", "--qat-epochs", "1", "--calibration-images", "128",
            "--max-train-images", "640", "--batch-size", "64");
        Assert.That(export.ExitCode, Is.Zero, export.ToString());
        string qat = Path.Combine(_folder, "qat", "model.int8-qat.onnx");
        Assert.That(export.Output, Does.Contain("quantization-aware (1 epoch on 640 images)"));
        Assert.That(new FileInfo(qat).Length, Is.LessThan(new FileInfo(onnx).Length / 3));

        var evaluation = CliRunner.Run("evaluate", qat, "--max-test-images", "200");
        Assert.That(evaluation.ExitCode, Is.Zero, evaluation.ToString());
        Assert.That(evaluation.Output, Does.Contain("(ONNX Runtime) on fashion-mnist: accuracy"));
    }

    [Test]
    public void CompressionMistakesAreOneLine()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        CliRunner.AssertOneLineError(CliRunner.Run("prune", _teacher, "--keep", "0"), CliApp.UsageError, "--keep");
        CliRunner.AssertOneLineError(CliRunner.Run("prune", _teacher, "--importance", "random"), CliApp.UsageError, "importance");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--distill-alpha", "0.3", "--max-train-images", "64"), CliApp.UsageError, "--teacher");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--teacher", Path.Combine(_folder, "missing.ckpt")), CliApp.UsageError, "missing.ckpt");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--teacher", _teacher, "--distill-alpha", "1.5"), CliApp.UsageError, "--distill-alpha");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--teacher", _teacher, "--loss", "focal", "--max-train-images", "64"), CliApp.UsageError, "--loss focal");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--recipe", "fashion-mnist-fast", "--teacher", _teacher), CliApp.UsageError, "--teacher");
        CliRunner.AssertOneLineError(CliRunner.Run("evaluate", Path.Combine(_folder, "missing.onnx")), CliApp.UsageError, "missing.onnx");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--model", "fast-cnn", "--width", "0"), CliApp.UsageError, "--width");
    }

    [Test]
    public void PruningALeNetIsOneLine()
    {
        string output = Path.Combine(_folder, "lenet");
        var train = CliRunner.Run("train", "--model", "lenet5", "--epochs", "1", "--max-train-images", "128", "--max-test-images", "50", "--output", output);
        Assert.That(train.ExitCode, Is.Zero, train.ToString());
        CliRunner.AssertOneLineError(CliRunner.Run("prune", Path.Combine(output, "last.ckpt")), CliApp.UsageError, "lenet5 cannot be pruned");
    }

    private static string AccuracyLine(string output) =>
        output.Split('\n').First(l => l.Contains(": accuracy ")).Split(": accuracy ")[1].Trim();
}
