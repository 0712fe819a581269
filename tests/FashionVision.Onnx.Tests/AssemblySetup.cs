namespace FashionVision.Onnx.Tests;

/// <summary>Runs once around the whole test assembly.</summary>
[SetUpFixture]
public class AssemblySetup
{
    [OneTimeSetUp]
    public void LimitTorchThreads()
    {
        // The kernel guard before any test runs a convolution through TorchSharp directly.
        FashionVision.Native.TorchRuntime.EnsureInitialized();
        // The tests run small models on a shared 2-core machine; one intra-op thread avoids oversubscription.
        set_num_threads(1);
    }

    [OneTimeTearDown]
    public void DeleteTrainedModel() => TrainedModel.DeleteFiles();
}
