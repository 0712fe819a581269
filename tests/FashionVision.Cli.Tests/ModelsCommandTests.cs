using FashionVision.Models;

namespace FashionVision.Cli.Tests;

[TestFixture]
public sealed class ModelsCommandTests
{
    [Test]
    public void ListShowsEveryZooModelWithItsSizeCostAndInput()
    {
        var result = CliRunner.Run("models");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var rows = result.Output.Split('\n');
        Assert.Multiple(() =>
        {
            foreach (var name in ModelZoo.Names)
                Assert.That(rows.Any(r => r.Contains($" {name} ")), Is.True, $"no row for {name}\n{result.Output}");
            // Published parameter counts: LeNet-5 (adapted to 28×28) and torchvision's resnet18 with 1000 classes.
            Assert.That(Row(rows, "lenet5"), Does.Contain("61,706").And.Contain("1×28×28"));
            Assert.That(Row(rows, "resnet18-imagenet"), Does.Contain("11,689,512").And.Contain("3×224×224").And.Contain(" G"));
            // The counts derived by hand in the core's ParameterCountTests.
            Assert.That(Row(rows, "densenet-bc-100"), Does.Contain("768,730"));
            Assert.That(Row(rows, "small-vit"), Does.Contain("456,202"));
            // torchvision's architectures (FashionVision.TorchVision), with torchvision's published counts.
            Assert.That(Row(rows, "efficientnet-b0"), Does.Contain("5,288,548").And.Contain("3×224×224"));
            Assert.That(Row(rows, "resnet50"), Does.Contain("25,557,032"));
            Assert.That(Row(rows, "densenet-121"), Does.Contain("7,978,856"));
        });
    }

    [Test]
    public void DescribeOneModelGivesItsExactFigures()
    {
        var info = ModelZoo.Describe("small-cnn");
        var result = CliRunner.Run("models", "small-cnn");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain(info.ParameterCount.ToString("N0")));
            Assert.That(result.Output, Does.Contain(info.FlopsPerImage.ToString("N0")));
            Assert.That(result.Output, Does.Contain(info.Summary));
        });
    }

    [Test]
    public void UnknownModelListsTheValidNames()
    {
        var result = CliRunner.Run("models", "resnet-9000");
        CliRunner.AssertOneLineError(result, CliApp.UsageError, "Unknown model 'resnet-9000'. Valid names: " + string.Join(", ", ModelZoo.Names));
    }

    private static string Row(string[] rows, string name) => rows.First(r => r.Contains($" {name} "));
}
