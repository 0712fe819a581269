namespace FashionVision.Cli.Tests.Packaging;

/// <summary>
/// A brand-new console app outside the repository that references <c>src/FashionVision/FashionVision.csproj</c> and
/// TorchSharp-cpu (eng/project-reference-smoke-test.sh does the work): without FashionVision.targets imported, the
/// library's entry points explain a native loading failure (on systems whose libstdc++ lacks GLIBCXX_3.4.32); with the
/// documented import, the app trains and evaluates. Takes about a minute.
/// </summary>
[TestFixture]
[Category("Packaging")]
public sealed class ProjectReferenceSmokeTests
{
    [Test]
    public void ProjectReferenceConsumerIsExplainedWithoutTheTargetsAndTrainsWithThem()
    {
        var (exitCode, output) = SmokeScript.Run("project-reference-smoke-test.sh");
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(output, Does.Not.Contain(" RAW "), "no entry point fails with TorchSharp's own exception");
            Assert.That(output, Does.Match(@"SMOKE steps=48 test-accuracy=0\.\d+"));
            Assert.That(output, Does.Contain("PROJECT REFERENCE SMOKE TEST PASSED"));
        });
    }
}
