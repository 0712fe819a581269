using System.Text.Json;
using FashionVision.Data;
using FashionVision.Training;

namespace FashionVision.Cli.Tests;

/// <summary><c>train --print-spec</c> and <c>train --spec</c>: what a recipe amounts to, written out and replayed, is the same run.</summary>
[TestFixture]
public sealed class SpecReplayTests
{
    private string _folder = "";

    [SetUp]
    public void RequireData()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-spec-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TearDown]
    public void RemoveFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void APrintedRecipeSpecReplaysTheSameRun()
    {
        string[] recipe = ["train", "--recipe", "fashion-mnist-fast", "--max-train-images", "384", "--max-test-images", "100"];
        var printed = CliRunner.Run([.. recipe, "--print-spec"]);
        Assert.That(printed.ExitCode, Is.Zero, printed.ToString());
        var spec = RunSpec.Parse(printed.Output, "printed spec");
        Assert.That(spec.Recipe, Is.EqualTo("fashion-mnist-fast"));
        Assert.That(spec.Data.MaxTrainImages, Is.EqualTo(384));
        Assert.That(Directory.GetFiles(_folder), Is.Empty, "--print-spec trains nothing");
        string file = Path.Combine(_folder, "spec.json");
        File.WriteAllText(file, printed.Output);

        var direct = CliRunner.Run([.. recipe, "--output", Path.Combine(_folder, "direct")]);
        var replay = CliRunner.Run("train", "--spec", file, "--output", Path.Combine(_folder, "replay"));
        Assert.That(direct.ExitCode, Is.Zero, direct.ToString());
        Assert.That(replay.ExitCode, Is.Zero, replay.ToString());
        Assert.That(Losses("replay"), Is.EqualTo(Losses("direct")).And.Not.Empty, "the same spec trains the same history");
        Assert.That(RunSpec.Load(Path.Combine(_folder, "replay", "spec.json")).DifferencesFrom(spec), Is.Empty, "the run folder keeps the spec it ran");

        CliRunner.AssertOneLineError(CliRunner.Run("train", "--spec", file, "--epochs", "3"), CliApp.UsageError, "--spec fixes --epochs");
        File.WriteAllText(file, """{ "training": { "optimizer": { "kind": "rmsprop" } } }""");
        CliRunner.AssertOneLineError(CliRunner.Run("train", "--spec", file), CliApp.UsageError, "Sgd, Adam, AdamW");
    }

    private double[] Losses(string run)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(_folder, run, "metrics.json")));
        return json.RootElement.GetProperty("history").EnumerateArray().Select(e => e.GetProperty("trainLoss").GetDouble()).ToArray();
    }
}
