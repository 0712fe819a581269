using System.Text.Json;
using FashionVision.Data;

namespace FashionVision.Cli.Tests;

/// <summary><c>inspect-labels</c> and <c>ablate</c> end to end on small real Fashion-MNIST subsets.</summary>
[TestFixture]
public sealed class AnalysisCommandTests
{
    private string _folder = "";

    [OneTimeSetUp]
    public void RequireData()
    {
        if (new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _folder = Path.Combine(Path.GetTempPath(), "fv-cli-analysis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [OneTimeTearDown]
    public void RemoveFolder()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public void HelpListsTheNewCommands()
    {
        var help = CliRunner.Run("--help");
        Assert.That(help.Output, Does.Contain("inspect-labels").And.Contain("ablate"));
        var evaluate = CliRunner.Run("evaluate", "--help");
        Assert.That(evaluate.Output, Does.Contain("--embedding-plot"));
    }

    [Test]
    public void InspectLabelsWithPlantedFlipsWritesTheRankedListGridAndScores()
    {
        string output = Path.Combine(_folder, "labels");
        // Plumbing only: models this small barely learn (the finder's accuracy is tested in the core tests and measured in docs).
        var result = CliRunner.Run("inspect-labels", "--max-images", "500", "--folds", "2", "--epochs", "2", "--flip-rate", "0.1",
            "--top", "8", "--seed", "1", "--output", output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain("fold 2/2 epoch 2/2").And.Contain("50 labels flipped on purpose")
            .And.Contain("(fashion-mnist-fast recipe)").And.Contain("prune-by-noise-rate: precision"));
        var csv = File.ReadAllLines(Path.Combine(output, "label-issues.csv"));
        Assert.That(csv[0], Is.EqualTo("rank,index,given,suggested,self_confidence,suggested_confidence,loss,models_against,planted"));
        Assert.That(csv, Has.Length.GreaterThan(1), "something is flagged");
        var first = csv[1].Split(',');
        Assert.That(first[0], Is.EqualTo("1"));
        Assert.That(int.Parse(first[1]), Is.InRange(0, 499));
        Assert.That(first[8], Is.AnyOf("yes", "no"));
        Assert.That(File.ReadAllBytes(Path.Combine(output, "label-issues.png")).Take(4), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47 }));
        string summary = File.ReadAllText(Path.Combine(output, "label-issues.md"));
        Assert.That(summary, Does.Contain("## Planted flips (10.0% of the labels)").And.Contain("| confident-joint |").And.Contain("| loss ranking, top 50 |")
            .And.Contain("![label issues](label-issues.png)"));
    }

    [Test]
    public void InspectLabelsRejectsBadOptionsInOneLine()
    {
        CliRunner.AssertOneLineError(CliRunner.Run("inspect-labels", "--folds", "1"), CliApp.UsageError, "--folds");
        CliRunner.AssertOneLineError(CliRunner.Run("inspect-labels", "--filter", "vibes"), CliApp.UsageError, "vibes");
        CliRunner.AssertOneLineError(CliRunner.Run("inspect-labels", "--flip-rate", "0.9"), CliApp.UsageError, "--flip-rate");
    }

    [Test]
    public void AblateRunsAPlanAndWritesTableChartAndRuns()
    {
        string plan = Path.Combine(_folder, "plan.json");
        File.WriteAllText(plan, """
            {
              "name": "cli test",
              "trainImages": 256,
              "testImages": 200,
              "seeds": [0, 1],
              "base": { "model": { "name": "fast-cnn", "width": 0.5 }, "training": { "epochs": 2, "batchSize": 32, "optimizer": { "learningRate": 0.003 } } },
              "steps": [ { "name": "+ label smoothing", "set": { "training": { "loss": { "labelSmoothing": 0.1 } } } } ]
            }
            """);
        string output = Path.Combine(_folder, "ablation");
        var result = CliRunner.Run("ablate", plan, "--output", output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain("2 rows × 2 seed(s)").And.Contain("step 1/1 + label smoothing, seed 1: test accuracy"));
        string table = File.ReadAllText(Path.Combine(output, "ablation.md"));
        Assert.That(table, Does.Contain("| 1 | + label smoothing (`training.loss.labelSmoothing = 0.1`) |").And.Contain("![ablation](ablation.png)"));
        using var runs = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "ablation.json")));
        var rows = runs.RootElement.GetProperty("rows");
        Assert.That(rows.GetArrayLength(), Is.EqualTo(2));
        Assert.That(rows[1].GetProperty("runs").GetArrayLength(), Is.EqualTo(2));
        Assert.That(rows[1].GetProperty("settings").GetProperty("training").GetProperty("loss").GetProperty("labelSmoothing").GetDouble(), Is.EqualTo(0.1));
        Assert.That(runs.RootElement.GetProperty("dataset").GetProperty("trainImages").GetInt64(), Is.EqualTo(256));
        Assert.That(rows[0].GetProperty("meanAccuracy").GetDouble(), Is.GreaterThan(0.3), "16 steps on 256 images are well above chance (0.1)");
        Assert.That(File.Exists(Path.Combine(output, "ablation.png")), Is.True);
    }

    [Test]
    public void AblateNamesTheBadPlanInOneLine()
    {
        string plan = Path.Combine(_folder, "bad-plan.json");
        File.WriteAllText(plan, """{ "base": { "epochz": 3 } }""");
        CliRunner.AssertOneLineError(CliRunner.Run("ablate", plan), CliApp.UsageError, "bad-plan.json");
        CliRunner.AssertOneLineError(CliRunner.Run("ablate", Path.Combine(_folder, "missing.json")), CliApp.UsageError, "missing.json");
        File.WriteAllText(plan, """{ "dataset": "cifar-10" }""");
        CliRunner.AssertOneLineError(CliRunner.Run("ablate", plan), CliApp.UsageError, "cifar-10");
    }
}
