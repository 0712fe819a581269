using System.Text.Json;
using FashionVision.Data;

namespace FashionVision.Cli.Tests;

/// <summary>
/// <c>train --loss arcface --diagnostics</c> on a few hundred real images: the cosine head travels in the checkpoint (so
/// <c>evaluate</c> rebuilds it), and the diagnostics reach metrics.json, the plots and the report.
/// </summary>
[TestFixture]
public sealed class ArcFaceDiagnosticsTrainCommandTests
{
    private string _folder = "";
    private CliRunner.Result _train = null!;

    [OneTimeSetUp]
    public void TrainOnce()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-arcface-" + Guid.NewGuid().ToString("N"));
        _train = CliRunner.Run("train", "--model", "lenet5", "--epochs", "1", "--batch-size", "32", "--lr", "0.003",
            "--loss", "arcface", "--arcface-margin", "0.2", "--arcface-scale", "10", "--diagnostics",
            "--max-train-images", "640", "--max-test-images", "300", "--validation-split", "0", "--seed", "5", "--output", _folder);
    }

    [OneTimeTearDown]
    public void RemoveRunFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void DiagnosticsReachMetricsPlotsAndReport()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "metrics.json")));
        var root = json.RootElement;
        var diagnostics = root.GetProperty("diagnostics");
        var gradients = diagnostics.GetProperty("gradientFlow");
        var relus = diagnostics.GetProperty("deadRelu");
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("spec").GetProperty("training").GetProperty("loss").GetProperty("kind").GetString(), Is.EqualTo("ArcFace"));
            Assert.That(gradients.GetArrayLength(), Is.EqualTo(1));
            // 20 steps, every 10th measured; LeNet-5's five layers conv1, conv2, fc1, fc2, fc3.
            Assert.That(gradients[0].GetProperty("steps").GetInt32(), Is.EqualTo(2));
            Assert.That(gradients[0].GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("layer").GetString()),
                Is.EqualTo(new[] { "conv1", "conv2", "fc1", "fc2", "fc3" }));
            // LeNet-5's one ReLU module runs four times per pass: four sites.
            Assert.That(relus[0].GetProperty("sites").EnumerateArray().Select(s => s.GetProperty("site").GetString()),
                Is.EqualTo(new[] { "relu", "relu#2", "relu#3", "relu#4" }));
            Assert.That(relus[0].GetProperty("units").GetInt64(), Is.EqualTo(6 + 16 + 120 + 84));
            foreach (var png in new[] { "gradient-flow.png", "dead-relu.png" })
                Assert.That(new FileInfo(Path.Combine(_folder, png)).Length, Is.GreaterThan(1000), png);
            var report = File.ReadAllText(Path.Combine(_folder, "report.md"));
            Assert.That(report, Does.Contain("## Diagnostics").And.Contain("(gradient-flow.png)").And.Contain("(dead-relu.png)"));
        });
    }

    [Test]
    public void EvaluateRebuildsTheCosineHeadFromTheCheckpoint()
    {
        Assert.That(_train.ExitCode, Is.Zero, _train.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "metrics.json")));
        double accuracy = json.RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
        Assert.That(accuracy, Is.GreaterThan(0.3), "one epoch of ArcFace on 640 images is well above chance");
        var result = CliRunner.Run("evaluate", Path.Combine(_folder, "last.ckpt"), "--max-test-images", "300");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain($"accuracy {accuracy:P2} on 300 images"), "a linear head on the same weights would score differently");
    }

    [Test]
    public void HelpListsTheNewLossesPresetsAndFlags()
    {
        var help = CliRunner.Run("train", "--help");
        Assert.That(help.Output, Does.Contain("center").And.Contain("arcface").And.Contain("--diagnostics")
            .And.Contain("randaugment").And.Contain("autoaugment").And.Contain("mixup").And.Contain("jitter"));
    }
}
