using System.Text.Json;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Cli.Tests;

/// <summary>
/// The 224-px transfer path at a small size: <c>train --model resnet18-imagenet --input-size 32 --weights …</c> on 28×28
/// Fashion-MNIST with class weights and class-targeted augmentation, then <c>evaluate --tta --ensemble</c>,
/// <c>export --tta</c> and <c>predict</c> on its checkpoint.
/// </summary>
[TestFixture]
public sealed class TransferCommandTests
{
    private string _folder = "";
    private string _weights = "";
    private CliRunner.Result _train = null!;

    private string Checkpoint => Path.Combine(_folder, "last.ckpt");

    [OneTimeSetUp]
    public void TrainOnce()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-transfer-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
        // A state dict in torchvision's resnet18 layout: the zoo's bare resnet18-imagenet uses torchvision's names and shapes.
        _weights = Path.Combine(_folder, "resnet18.safetensors");
        using (var imagenet = ModelZoo.Create("resnet18-imagenet", ModelZoo.DefaultOptions("resnet18-imagenet") with { Seed = 8 }))
            ModelWeights.SaveSafeTensors(imagenet, _weights);
        _train = CliRunner.Run("train", "--model", "resnet18-imagenet", "--input-size", "32", "--weights", _weights,
            "--epochs", "1", "--batch-size", "16", "--lr", "0.001", "--max-train-images", "64", "--max-test-images", "40", "--seed", "5",
            "--class-weights", "Shirt=2,T-shirt/top=1.5", "--targeted-augmentation", "standard:Shirt,T-shirt/top", "--output", _folder);
    }

    [OneTimeTearDown]
    public void RemoveRunFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void TrainsTheImageNetResNetOn28PixelImagesWithItsOwnPreprocessing()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        Assert.That(_train.Output, Does.Contain("input preprocessing inside the model: resize to 32×32, 3 channels, normalise mean=[0.485, 0.456, 0.406]"));
        Assert.That(_train.Output, Does.Contain("loaded torchvision weights"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "metrics.json")));
        var spec = json.RootElement.GetProperty("spec");
        Assert.Multiple(() =>
        {
            Assert.That(spec.GetProperty("model").GetProperty("inputSize").GetInt32(), Is.EqualTo(32));
            Assert.That(spec.GetProperty("training").GetProperty("classWeights").GetString(), Is.EqualTo("Shirt=2,T-shirt/top=1.5"));
            Assert.That(spec.GetProperty("training").GetProperty("targetedAugmentation").GetString(), Is.EqualTo("standard:Shirt,T-shirt/top"));
        });
        var manifest = FashionVision.Training.Checkpoint.Load(Checkpoint).Manifest;
        Assert.That(manifest.RunSettings!.Augmentation, Does.StartWith("ClassConditional(").And.Contain("classes=[0, 6]"));
        Assert.That(manifest.InputShape, Is.EqualTo(new[] { 1, 28, 28 }));
        Assert.That(File.ReadAllText(Path.Combine(_folder, "report.md")), Does.Contain("Confusion among the upper-body garments"));
    }

    [Test]
    public void EvaluateAveragesAnEnsembleOverTestTimeViews()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        var result = CliRunner.Run("evaluate", Checkpoint, "--tta", "flip,shift1", "--ensemble", Checkpoint, "--max-test-images", "40");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());

        // The same through the library: two identical members average to the one model.
        using var model = FashionVision.Training.Checkpoint.Load(Checkpoint).CreateZooModel();
        using var test = new FashionMnistSource().Load(DatasetSplit.Test);
        using var first = test.Take(40);
        var expected = Evaluator.Evaluate(model, first, new EvaluatorOptions { Tta = TestTimeAugmentation.Parse("flip,shift1") });
        Assert.Multiple(() =>
        {
            Assert.That(result.Output, Does.Contain("ensemble of 2 (resnet18-imagenet, resnet18-imagenet)"));
            Assert.That(result.Output, Does.Contain("test-time augmentation flip,shift1 (10 views)"));
            Assert.That(result.Output, Does.Contain($"accuracy {expected.Accuracy:P2} on 40 images"));
            Assert.That(result.Output, Does.Contain("confusion among the upper-body garments").And.Contain("recall"));
        });
    }

    [Test]
    public void ExportWithTtaAgreesWithPredictWithTta()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string onnx = Path.Combine(_folder, "export", "tta.onnx");
        var export = CliRunner.Run("export", Checkpoint, "--output", onnx, "--tta", "flip");
        Assert.That(export.ExitCode, Is.Zero, export.ToString());
        Assert.That(export.Output, Does.Contain("input 1×28×28").And.Contain("averages 2 test-time views"));

        var images = TestImages.SavePngs(Path.Combine(_folder, "images"), 3);
        var fromOnnx = CliRunner.Run(["predict", .. images, "--model", onnx, "--style", "raw", "--top", "1"]);
        var fromCheckpoint = CliRunner.Run(["predict", .. images, "--model", Checkpoint, "--style", "raw", "--top", "1", "--tta", "flip"]);
        Assert.That(fromOnnx.ExitCode, Is.Zero, fromOnnx.ToString());
        Assert.That(fromCheckpoint.ExitCode, Is.Zero, fromCheckpoint.ToString());
        Assert.That(Rows(fromOnnx.Output), Is.EqualTo(Rows(fromCheckpoint.Output)).And.Count.EqualTo(3), "same classes and probabilities to 0.1%");

        var bad = CliRunner.Run(["predict", images[0], "--model", onnx, "--tta", "flip"]);
        CliRunner.AssertOneLineError(bad, CliApp.UsageError, "export --tta");
    }

    [TestCase("--tta", "flop", "Unknown test-time augmentation 'flop'")]
    [TestCase("--ensemble", "no-such.ckpt", "--ensemble: no such checkpoint")]
    public void EvaluateRejectsBadTtaAndEnsembleInOneLine(string option, string value, string expected)
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        CliRunner.AssertOneLineError(CliRunner.Run("evaluate", Checkpoint, option, value), CliApp.UsageError, expected);
    }

    [TestCase("--class-weights", "1,2,3", "(--class-weights) has 3 numbers for 10 classes")]
    [TestCase("--class-weights", "Jacket=2", "'Jacket' is neither a class index")]
    [TestCase("--class-weights", "Shirt=-1", "'-1' is not a positive number")]
    [TestCase("--targeted-augmentation", "standard", "is not PRESET:CLASSES")]
    [TestCase("--targeted-augmentation", "wild:Shirt", "unknown preset 'wild'")]
    [TestCase("--weights", "IMPLICIT", "--weights")]
    public void TrainRejectsBadClassOptionsInOneLine(string option, string value, string expected)
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string output = Path.Combine(_folder, "bad-" + Guid.NewGuid().ToString("N"));
        var result = CliRunner.Run("train", "--model", "lenet5", "--epochs", "1", "--max-train-images", "32", "--max-test-images", "16",
            option, value == "IMPLICIT" ? _weights : value, "--output", output);
        CliRunner.AssertOneLineError(result, CliApp.UsageError, expected);
    }

    private static List<string> Rows(string table) => table.Split('\n').Where(line => line.Contains(".png")).Select(line => line.Trim()).ToList();
}
