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
    [Test]
    public void PackagedLibraryTrainsAndEvaluatesInABrandNewConsoleApp()
    {
        var (exitCode, output) = SmokeScript.Run("package-smoke-test.sh");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(output, Does.Contain("package contents: OK"));
            Assert.That(output, Does.Match(@"SMOKE steps=36 test-accuracy=0\.\d+"));
            Assert.That(output, Does.Contain("PACKAGE SMOKE TEST PASSED"));
        });
    }
}
