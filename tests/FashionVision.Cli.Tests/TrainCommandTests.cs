using System.Text.Json;
using FashionVision.Data;

namespace FashionVision.Cli.Tests;

/// <summary>
/// One tiny real training run (a few hundred Fashion-MNIST images, one epoch) shared by the tests that check its run folder
/// and feed its checkpoint to <c>evaluate</c>.
/// </summary>
[TestFixture]
public sealed class TrainCommandTests
{
    private static readonly byte[] PngSignature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
    private string _folder = "";
    private CliRunner.Result _train = null!;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-train-" + Guid.NewGuid().ToString("N"));
        _train = CliRunner.Run("train", "--dataset", "fashion-mnist", "--model", "lenet5", "--epochs", "1", "--batch-size", "64",
            "--lr", "0.003", "--max-train-images", "640", "--max-test-images", "300", "--seed", "3", "--output", _folder);
    }

    [OneTimeTearDown]
    public void RemoveRunFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void TrainSucceedsAndSaysWhereItsFilesAre()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
            Assert.That(_train.Output, Does.Contain("epoch 1/1"));
            Assert.That(_train.Output, Does.Contain("test accuracy"));
            Assert.That(_train.Output, Does.Contain(_folder));
        });
    }

    [Test]
    public void RunFolderHoldsEveryPromisedFile()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        foreach (var name in new[] { "metrics.json", "report.md", "training-curves.png", "confusion-matrix.png", "per-class-f1.png", "misclassified.png" })
            Assert.That(File.Exists(Path.Combine(_folder, name)), Is.True, name);
        Assert.That(Directory.GetFiles(_folder, "*.ckpt"), Is.Not.Empty, "a checkpoint");
        foreach (var png in Directory.GetFiles(_folder, "*.png"))
        {
            var bytes = File.ReadAllBytes(png);
            Assert.That(bytes.Length, Is.GreaterThan(1000), png);
            Assert.That(bytes.Take(8), Is.EqualTo(PngSignature), png);
        }
        Assert.That(Directory.GetFiles(_folder, "*.tmp"), Is.Empty, "no temporary files left");
    }

    [Test]
    public void MetricsJsonHoldsHistoryTestMetricsConfusionMatrixAndOptions()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "metrics.json")));
        var root = json.RootElement;
        var history = root.GetProperty("history");
        var test = root.GetProperty("test");
        double accuracy = test.GetProperty("accuracy").GetDouble();
        var matrix = test.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray()).ToArray();
        long diagonal = Enumerable.Range(0, matrix.Length).Sum(i => matrix[i][i]);
        Assert.Multiple(() =>
        {
            Assert.That(history.GetArrayLength(), Is.EqualTo(1));
            Assert.That(history[0].GetProperty("trainLoss").GetDouble(), Is.GreaterThan(0).And.LessThan(10));
            Assert.That(root.GetProperty("dataset").GetProperty("trainImages").GetInt64() + root.GetProperty("dataset").GetProperty("validationImages").GetInt64(),
                Is.EqualTo(640), "a tenth of the 640 images is held out for validation by default");
            Assert.That(root.GetProperty("dataset").GetProperty("validationImages").GetInt64(), Is.EqualTo(64).Within(5));
            Assert.That(history[0].GetProperty("validationLoss").GetDouble(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("dataset").GetProperty("testImages").GetInt64(), Is.EqualTo(300));
            Assert.That(matrix, Has.Length.EqualTo(10));
            Assert.That(matrix.All(r => r.Length == 10), Is.True);
            Assert.That(matrix.Sum(r => r.Sum()), Is.EqualTo(300));
            Assert.That(accuracy, Is.EqualTo(diagonal / 300.0).Within(1e-9), "accuracy is the confusion matrix's diagonal");
            Assert.That(accuracy, Is.GreaterThan(0.3), "one epoch of LeNet-5 on 640 images is well above chance (0.1)");
            Assert.That(test.GetProperty("perClass").GetArrayLength(), Is.EqualTo(10));
            Assert.That(test.GetProperty("perClass")[9].GetProperty("class").GetString(), Is.EqualTo("Ankle boot"));
            Assert.That(root.GetProperty("spec").GetProperty("model").GetProperty("name").GetString(), Is.EqualTo("lenet5"));
            Assert.That(root.GetProperty("spec").GetProperty("training").GetProperty("optimizer").GetProperty("learningRate").GetDouble(), Is.EqualTo(0.003));
            Assert.That(root.GetProperty("run").GetProperty("threads").GetInt32(), Is.EqualTo(torch.get_num_threads()),
                "the thread count the run trained with, part of what makes the seed reproducible");
            Assert.That(root.GetProperty("wallTimeSeconds").GetDouble(), Is.GreaterThan(0));
        });
    }

    [Test]
    public void ReportTiesTheFilesTogether()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string report = File.ReadAllText(Path.Combine(_folder, "report.md"));
        Assert.Multiple(() =>
        {
            Assert.That(report, Does.StartWith("# lenet5 on fashion-mnist"));
            Assert.That(report, Does.Contain("Test accuracy **"));
            foreach (var name in new[] { "training-curves.png", "confusion-matrix.png", "per-class-f1.png", "misclassified.png", "metrics.json" })
                Assert.That(report, Does.Contain($"({name})"), name);
            Assert.That(report, Does.Contain("precision"), "the classification report");
        });
    }

    [Test]
    public void EvaluateReproducesTheTestAccuracyFromTheCheckpoint()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "metrics.json")));
        double accuracy = json.RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
        string checkpoint = Path.Combine(_folder, json.RootElement.GetProperty("checkpoint").GetString()!);
        var result = CliRunner.Run("evaluate", checkpoint, "--max-test-images", "300");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain($"accuracy {accuracy:P2} on 300 images"));
            Assert.That(result.Output, Does.Contain("Ankle boot"));
        });
    }

    [Test]
    public void EvaluateWritesAnEmbeddingPlotAndPerClassSilhouettes()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string checkpoint = Directory.GetFiles(_folder, "last.ckpt").Single();
        string plot = Path.Combine(_folder, "embedding.png");
        var result = CliRunner.Run("evaluate", checkpoint, "--max-test-images", "300", "--embedding-plot", plot,
            "--embedding-images", "200", "--perplexity", "10", "--tsne-iterations", "300");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain("embedding: 200 test images, 84 features"), "LeNet-5's penultimate layer has 84 units");
            Assert.That(result.Output, Does.Contain("silhouette (features)").And.Contain("Ankle boot"));
            Assert.That(File.ReadAllBytes(plot).Take(8), Is.EqualTo(PngSignature));
        });
        CliRunner.AssertOneLineError(CliRunner.Run("evaluate", checkpoint, "--embedding-plot", plot, "--embedding-images", "20000"), CliApp.UsageError, "--embedding-images");
    }

    [Test]
    public void ExportWritesATritonModelRepository()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string checkpoint = Directory.GetFiles(_folder, "last.ckpt").Single();
        string repository = Path.Combine(_folder, "triton");
        var export = CliRunner.Run("export", checkpoint, "--output", Path.Combine(_folder, "triton-export", "model.onnx"), "--triton", repository, "--triton-name", "fashion");
        Assert.That(export.ExitCode, Is.Zero, export.ToString());
        string config = File.ReadAllText(Path.Combine(repository, "fashion", "config.pbtxt"));
        Assert.Multiple(() =>
        {
            Assert.That(export.Output, Does.Contain("Triton model: " + Path.Combine(repository, "fashion")));
            Assert.That(File.Exists(Path.Combine(repository, "fashion", "1", "model.onnx")), Is.True);
            Assert.That(File.ReadAllLines(Path.Combine(repository, "fashion", "labels.txt")), Is.EqualTo(FashionMnistSource.Classes));
            Assert.That(config, Does.Contain("name: \"fashion\"").And.Contain("dims: [ 1, 28, 28 ]").And.Contain("dims: [ 10 ]"));
        });
        var badName = CliRunner.Run("export", checkpoint, "--triton", repository, "--triton-name", "../up");
        CliRunner.AssertOneLineError(badName, CliApp.UsageError, "--triton-name");
    }

    [Test]
    public void ExportWritesOnnxAndInt8AndPredictAgreesWithTheCheckpoint()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string checkpoint = Directory.GetFiles(_folder, "last.ckpt").Single();
        string onnx = Path.Combine(_folder, "export", "model.onnx");
        var export = CliRunner.Run("export", checkpoint, "--output", onnx, "--int8", "--int8-target", "portable", "--calibration-images", "64");
        Assert.That(export.ExitCode, Is.Zero, export.ToString());
        string int8 = Path.Combine(_folder, "export", "model.int8.onnx");
        Assert.Multiple(() =>
        {
            Assert.That(export.Output, Does.Contain("INT8 target: portable, weights in ±63"), "the export says which target it quantized for");
            Assert.That(File.Exists(onnx), Is.True);
            Assert.That(File.Exists(int8), Is.True);
            Assert.That(new FileInfo(int8).Length, Is.LessThan(new FileInfo(onnx).Length / 2), "INT8 is much smaller");
        });
        CliRunner.AssertOneLineError(CliRunner.Run("export", checkpoint, "--int8", "--int8-target", "avx3"), CliApp.UsageError, "Unknown INT8 target 'avx3'");

        // Three real test images as PNG files, the way a user would have them.
        var images = TestImages.SavePngs(Path.Combine(_folder, "images"), 3);

        var fromOnnx = CliRunner.Run(["predict", .. images, "--model", onnx, "--style", "raw"]);
        var fromCheckpoint = CliRunner.Run(["predict", .. images, "--model", checkpoint, "--style", "raw"]);
        Assert.Multiple(() =>
        {
            Assert.That(fromOnnx.ExitCode, Is.Zero, fromOnnx.ToString());
            Assert.That(fromCheckpoint.ExitCode, Is.Zero, fromCheckpoint.ToString());
        });
        var onnxClasses = PredictedClasses(fromOnnx.Output);
        Assert.That(onnxClasses, Has.Count.EqualTo(3), fromOnnx.Output);
        Assert.That(onnxClasses, Is.EqualTo(PredictedClasses(fromCheckpoint.Output)), "ONNX Runtime and TorchSharp agree");
        Assert.That(onnxClasses, Is.All.AnyOf(FashionMnistSource.Classes.ToArray()));
    }

    [Test]
    public void ResumeWithOtherOptionsIsRefusedInOneLineListingThem()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        string resumed = _folder + "-resumed";
        try
        {
            var result = CliRunner.Run("train", "--dataset", "fashion-mnist", "--model", "lenet5", "--epochs", "2", "--batch-size", "64",
                "--lr", "0.003", "--max-train-images", "640", "--max-test-images", "300", "--seed", "3", "--output", resumed,
                "--resume", Path.Combine(_folder, "last.ckpt"));
            CliRunner.AssertOneLineError(result, CliApp.UsageError, "training.epochs 1 → 2");
            Assert.That(result.Error, Does.Contain("--allow-changed-options"));
        }
        finally
        {
            if (Directory.Exists(resumed))
                Directory.Delete(resumed, recursive: true);
        }
    }

    [Test]
    public void PredictWithAMissingImageIsOneLine()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        var result = CliRunner.Run("predict", Path.Combine(_folder, "no-such.png"), "--model", Path.Combine(_folder, "last.ckpt"));
        CliRunner.AssertOneLineError(result, CliApp.UsageError, "no-such.png");
    }

    private static List<string> PredictedClasses(string table) => table.Split('\n')
        .Where(line => line.Contains(".png"))
        .Select(line => line.Split('│', StringSplitOptions.TrimEntries)[2])
        .ToList();

    [Test]
    public void EvaluateRejectsAFileThatIsNotACheckpoint()
    {
        string bogus = Path.Combine(_folder, "not-a-checkpoint.ckpt");
        File.WriteAllText(bogus, "hello");
        try
        {
            var result = CliRunner.Run("evaluate", bogus);
            Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
            Assert.That(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), result.ToString());
            Assert.That(result.Error, Does.Contain("not-a-checkpoint.ckpt").And.Not.Contain("   at "));
        }
        finally
        {
            File.Delete(bogus);
        }
    }
}
