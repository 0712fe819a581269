namespace FashionVision.Cli.Tests;

/// <summary>Runs the CLI in-process and captures what it writes.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
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
