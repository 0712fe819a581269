namespace FashionVision.Cli.Tests;

/// <summary>Runs the CLI in-process and captures what it writes.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    /// <summary>Skips the test unless Fashion-MNIST is installed where the library looks (never downloads).</summary>
    public static void RequireFashionMnist()
    {
        if (new FashionVision.Data.FashionMnistSource(new FashionVision.Data.DatasetOptions { AllowDownload = false }).Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
    }

    /// <summary>A new, not yet created folder under the temporary folder, for a run's output.</summary>
    public static string NewFolder(string prefix) => Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");

    /// <summary>Deletes a run folder if it exists.</summary>
    public static void RemoveFolder(string folder)
    {
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
    }

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = CliApp.Run(args, output, error);
        return new Result(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Asserts a user error: the expected exit code, exactly one line on stderr, no stack trace.</summary>
    public static void AssertOneLineError(Result result, int exitCode, string containing)
    {
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
            Assert.That(lines, Has.Length.EqualTo(1), result.ToString());
            Assert.That(result.Error, Does.StartWith("error: "), result.ToString());
            Assert.That(result.Error, Does.Contain(containing), result.ToString());
            Assert.That(result.Error + result.Output, Does.Not.Contain("   at "), "no stack trace");
        });
    }
}
