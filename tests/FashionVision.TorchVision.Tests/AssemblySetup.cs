namespace FashionVision.TorchVision.Tests;

/// <summary>Runs once around the whole test assembly.</summary>
[SetUpFixture]
public class AssemblySetup
{
    [OneTimeSetUp]
    public void Setup()
    {
        // The tests run on a shared 2-core machine; one intra-op thread avoids oversubscription.
        set_num_threads(1);
        TorchVisionModels.Register();
    }
}
