using System.Diagnostics;

namespace FashionVision.Cli.Tests.Packaging;

/// <summary>Runs one of the repository's <c>eng/*-smoke-test.sh</c> scripts and returns its exit code and output.</summary>
internal static class SmokeScript
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    public static (int ExitCode, string Output) Run(string script, params string[] arguments)
    {
        string root = RepositoryRoot();
        string path = Path.Combine(root, "eng", script);
        Assert.That(File.Exists(path), Is.True, path);

        var start = new ProcessStartInfo("bash", new[] { path }.Concat(arguments))
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The test host's MSBuild settings must not reach the nested dotnet commands.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "DOTNET_HOST_PATH" })
            start.Environment.Remove(name);

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{script} ran past {Limit}:\n{stdout.Result}\n{stderr.Result}");
        }
        string output = stdout.Result + "\n" + stderr.Result;
        TestContext.Out.WriteLine(output);
        return (process.ExitCode, output);
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "FashionVision.sln")))
            folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("FashionVision.sln not found above the test folder");
    }
}
