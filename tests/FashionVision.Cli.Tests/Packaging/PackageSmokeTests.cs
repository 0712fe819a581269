using System.Diagnostics;

namespace FashionVision.Cli.Tests.Packaging;

/// <summary>
/// Packs the libraries into a temporary folder feed and builds a brand-new console app against it, outside the repository
/// (eng/package-smoke-test.sh does the work). Proves that a user's <c>dotnet add package FashionVision</c> path works, the
/// TorchSharp native-loading fix included. Takes 1–3 minutes.
/// </summary>
[TestFixture]
[Category("Packaging")]
public sealed class PackageSmokeTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(8);

    [Test]
    public void PackagedLibraryTrainsAndEvaluatesInABrandNewConsoleApp()
    {
        string root = RepositoryRoot();
        string script = Path.Combine(root, "eng", "package-smoke-test.sh");
        Assert.That(File.Exists(script), Is.True, script);

        var start = new ProcessStartInfo("bash", new[] { script })
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
            Assert.Fail($"the package smoke test ran past {Limit}:\n{stdout.Result}\n{stderr.Result}");
        }
        string output = stdout.Result + "\n" + stderr.Result;
        TestContext.Out.WriteLine(output);

        Assert.Multiple(() =>
        {
            Assert.That(process.ExitCode, Is.Zero, output);
            Assert.That(output, Does.Contain("package contents: OK"));
            Assert.That(output, Does.Match(@"SMOKE steps=36 test-accuracy=0\.\d+"));
            Assert.That(output, Does.Contain("PACKAGE SMOKE TEST PASSED"));
        });
    }

    private static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "FashionVision.sln")))
            folder = folder.Parent;
        return folder?.FullName ?? throw new InvalidOperationException("FashionVision.sln not found above the test folder");
    }
}
