using FashionVision.Cli.Infrastructure;
using Spectre.Console.Testing;

namespace FashionVision.Cli.Tests;

/// <summary>
/// The training display in its two modes: live bars on an interactive terminal (driven here through Spectre's test
/// console), one plain line per epoch when the output is redirected.
/// </summary>
[TestFixture]
public sealed class TrainingDisplayTests
{
    private string _folder = "";

    [SetUp]
    public void RequireData()
    {
        CliRunner.RequireFashionMnist();
        _folder = CliRunner.NewFolder("fv-cli-display");
    }

    [TearDown]
    public void RemoveRunFolder() => CliRunner.RemoveFolder(_folder);

    private string[] TwoShortEpochs => ["train", "--model", "lenet5", "--epochs", "2", "--batch-size", "16", "--max-train-images", "80", "--max-test-images", "20",
        "--output", _folder];

    [Test]
    public void AnInteractiveTerminalGetsLiveBarsAndTheEpochLines()
    {
        var console = new TestConsole().Interactive().SupportsAnsi(true).EmitAnsiSequences().Width(120);
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(TwoShortEpochs, new CliContext(console, output, error, CancellationToken.None));

        string live = console.Output;
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, error.ToString());
            Assert.That(live.Contains("\u001b[", StringComparison.Ordinal), Is.True, "ANSI cursor control: the bars redraw in place");
            Assert.That(live, Does.Contain("━"), "a progress bar");
            Assert.That(live, Does.Contain("epoch 2/2  ETA"), "the epoch bar with the run's remaining time");
            Assert.That(live, Does.Match(@"batch 4/4  loss \d+\.\d{4}  [\d,]+ img/s"), "the batch bar with loss and throughput");
            Assert.That(live, Does.Contain("epoch 1/2: loss").And.Contain("epoch 2/2: loss"), "a summary line per epoch above the bars");
            Assert.That(output.ToString(), Does.Contain("test accuracy"));
        });
    }

    [Test]
    public void RedirectedOutputGetsOnePlainLinePerEpoch()
    {
        var result = CliRunner.Run(TwoShortEpochs);
        var epochLines = result.Output.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(epochLines, Has.Length.EqualTo(2));
            Assert.That(epochLines[0], Does.Match(@"^epoch 1/2: loss \d\.\d{4}, accuracy .*; validation loss \d\.\d{4}, accuracy .*; lr [\d.]+, \d+\.\ds$"));
            // Ordinal: a culture-aware search ignores control characters such as ESC and would find it anywhere.
            foreach (var live in new[] { "\u001b", "━", "img/s", "batch " })
                Assert.That(result.Output.Contains(live, StringComparison.Ordinal), Is.False, $"no escape codes, bars or per-batch lines ({live})");
        });
    }
}
