namespace FashionVision.Visualization.Tests;

/// <summary>Runs once before the test assembly: the library's runtime check and kernel guard, before any test runs a convolution through TorchSharp directly.</summary>
[SetUpFixture]
public class KernelGuardSetup
{
    [OneTimeSetUp]
    public void InitialiseTorch() => FashionVision.Native.TorchRuntime.EnsureInitialized();
}
