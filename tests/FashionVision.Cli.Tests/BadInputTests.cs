namespace FashionVision.Cli.Tests;

/// <summary>Bad input at the command line: one line, a non-zero exit code, never a stack trace; nothing runs.</summary>
[TestFixture]
public sealed class BadInputTests
{
    [TestCase("--epochs", "abc", "abc")]
    [TestCase("--epochs", "0", "--epochs must be at least 1")]
    [TestCase("--batch-size", "-5", "--batch-size must be at least 1")]
    [TestCase("--lr", "-0.1", "--lr must be a finite number > 0")]
    [TestCase("--lr", "NaN", "--lr must be a finite number")]
    [TestCase("--lr", "fast", "fast")]
    [TestCase("--label-smoothing", "1.5", "--label-smoothing must be a finite number >= 0 and <= 0.99")]
    [TestCase("--max-train-images", "0", "--max-train-images must be at least 1")]
    [TestCase("--seed", "1e3", "1e3")]
    [TestCase("--validation-split", "0.95", "--validation-split must be a finite number >= 0 and <= 0.9")]
    [TestCase("--early-stopping", "0", "--early-stopping must be at least 1")]
    [TestCase("--overfitting-threshold", "0", "--overfitting-threshold must be a finite number > 0")]
    public void ABadNumberIsOneLine(string option, string value, string expected)
    {
        var result = CliRunner.Run("train", option, value, "--output", Path.Combine(Path.GetTempPath(), "fv-never-created"));
        CliRunner.AssertOneLineError(result, CliApp.UsageError, expected);
        Assert.That(Directory.Exists(Path.Combine(Path.GetTempPath(), "fv-never-created")), Is.False, "nothing ran");
    }

    [Test]
    public void AnUnknownModelListsTheZoo()
    {
        var result = CliRunner.Run("train", "--model", "alexnet");
        CliRunner.AssertOneLineError(result, CliApp.UsageError, "Unknown model 'alexnet'. Valid names: lenet5, small-cnn");
    }

    [Test]
    public void AnUnknownDatasetListsTheDatasets()
    {
        var result = CliRunner.Run("train", "--dataset", "cifar10");
        CliRunner.AssertOneLineError(result, CliApp.UsageError, "Unknown dataset 'cifar10'. Valid names: fashion-mnist, mnist.");
    }

    [TestCase("--optimizer", "rmsprop", "Unknown optimizer 'rmsprop'. Valid names: adamw, adam, sgd.")]
    [TestCase("--augmentation", "extreme", "Unknown augmentation preset 'extreme'. Valid names: none, basic")]
    [TestCase("--device", "tpu", "--device must be cpu, cuda or cuda:N")]
    public void AnUnknownChoiceListsTheValidOnes(string option, string value, string expected)
    {
        var result = CliRunner.Run("train", option, value);
        CliRunner.AssertOneLineError(result, CliApp.UsageError, expected);
    }

    [Test]
    public void AnUnknownRecipeListsTheRecipes()
    {
        var result = CliRunner.Run("train", "--recipe", "imagenet-in-an-hour");
        CliRunner.AssertOneLineError(result, CliApp.UsageError,
            $"Unknown recipe 'imagenet-in-an-hour'. Valid names: {string.Join(", ", FashionVision.Training.Recipes.Names)}.");
        Assert.That(FashionVision.Training.Recipes.Names, Does.Contain("fashion-mnist-fast").And.Contain("mnist"));
    }

    [TestCase("--epochs", "3")]
    [TestCase("--model", "lenet5")]
    [TestCase("--dataset", "mnist")]
    public void ARecipeRefusesTheOptionsItFixes(string option, string value)
    {
        var output = Path.Combine(Path.GetTempPath(), "fv-never-created-" + Guid.NewGuid().ToString("N"));
        var result = CliRunner.Run("train", "--recipe", "fashion-mnist-fast", option, value, "--output", output);
        CliRunner.AssertOneLineError(result, CliApp.UsageError, $"--recipe fashion-mnist-fast fixes {option}");
        Assert.That(Directory.Exists(output), Is.False, "nothing ran");
    }

    [Test]
    public void AMissingResumeCheckpointIsOneLine()
    {
        var result = CliRunner.Run("train", "--resume", "/nonexistent/last.ckpt");
        CliRunner.AssertOneLineError(result, CliApp.UsageError, "--resume: no such checkpoint '/nonexistent/last.ckpt'");
    }

    [Test]
    public void AnUnknownCommandIsOneLine()
    {
        var result = CliRunner.Run("fly");
        Assert.That(result.ExitCode, Is.EqualTo(CliApp.UsageError), result.ToString());
        Assert.That(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), result.ToString());
    }
}
