using System.Text.Json;
using FashionVision.Data;

namespace FashionVision.Cli.Tests;

/// <summary><c>train --recipe</c>: the recipe's model, epochs and options run, and the run folder records the recipe.</summary>
[TestFixture]
public sealed class RecipeTrainCommandTests
{
    private string _folder = "";

    [SetUp]
    public void RequireData()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-recipe-" + Guid.NewGuid().ToString("N"));
    }

    [TearDown]
    public void RemoveRunFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void TheFastRecipeTrainsItsModelWithItsOptionsAndSaysSo()
    {
        var result = CliRunner.Run("train", "--recipe", "fashion-mnist-fast", "--max-train-images", "256", "--max-test-images", "200", "--output", _folder);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, "metrics.json")));
        var root = json.RootElement;
        var spec = root.GetProperty("spec");
        var training = spec.GetProperty("training");
        Assert.Multiple(() =>
        {
            Assert.That(spec.GetProperty("recipe").GetString(), Is.EqualTo("fashion-mnist-fast"));
            Assert.That(spec.GetProperty("model").GetProperty("name").GetString(), Is.EqualTo("fast-cnn"));
            Assert.That(root.GetProperty("model").GetProperty("name").GetString(), Is.EqualTo("fast-cnn"));
            Assert.That(spec.GetProperty("data").GetProperty("dataset").GetString(), Is.EqualTo("fashion-mnist"));
            Assert.That(training.GetProperty("scheduler").GetProperty("kind").GetString(), Is.EqualTo("OneCycle"));
            Assert.That(training.GetProperty("loss").GetProperty("labelSmoothing").GetDouble(), Is.EqualTo(0.1));
            Assert.That(training.GetProperty("optimizer").GetProperty("learningRate").GetDouble(), Is.EqualTo(4e-3));
            Assert.That(training.GetProperty("seed").GetInt64(), Is.Zero, "the recipe's measured seed unless --seed is given");
            Assert.That(File.Exists(Path.Combine(_folder, "spec.json")), Is.True, "the run folder keeps the spec");
            Assert.That(root.GetProperty("history").GetArrayLength(), Is.EqualTo(6), "the recipe's 6 epochs");
            Assert.That(root.GetProperty("test").GetProperty("accuracy").GetDouble(), Is.GreaterThan(0.25), "12 steps already beat chance (0.1)");
            Assert.That(File.ReadAllText(Path.Combine(_folder, "report.md")), Does.Contain("recipe: `fashion-mnist-fast`"));
        });
    }
}
