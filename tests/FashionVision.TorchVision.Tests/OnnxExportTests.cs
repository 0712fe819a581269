using FashionVision.Models;
using FashionVision.Onnx;

namespace FashionVision.TorchVision.Tests;

/// <summary>
/// Every torchvision architecture exports to ONNX and ONNX Runtime computes TorchSharp's logits (1e-4), at 64 px (the
/// networks are fully convolutional, so the graph is the same as at 224, only cheaper), with BatchNorm statistics moved off
/// their initial values so that folding them into the convolutions is tested.
/// </summary>
public class OnnxExportTests
{
    public static IEnumerable<string> Names => TorchVisionModels.Names;

    [TestCaseSource(nameof(Names))]
    public void OnnxRuntimeComputesTorchSharpsLogits(string name)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create(name, ModelZoo.DefaultOptions(name) with { NumClasses = 10, Seed = 5 });
        using (no_grad())
            model.call(rand(new long[] { 4, 3, 64, 64 }, generator: new Generator(3)) * 4 - 2);   // training-mode pass: BN statistics move
        model.eval();
        string path = dir.File(name + ".onnx");
        OnnxExporter.Export(model, path, new OnnxExportOptions { Channels = 3, Height = 64, Width = 64 });
        var batch = rand(new long[] { 2, 3, 64, 64 }, generator: new Generator(4));
        var result = OnnxVerifier.Verify(model, path, batch);
        Assert.That(result.MaxAbsDifference, Is.LessThan(1e-4), name);
        Assert.That(result.MatchingPredictions, Is.EqualTo(2));
    }

    [Test]
    public void AGreyModelWithImageNetPreprocessingExportsWhole()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var options = new ModelOptions { InputChannels = 1, NumClasses = 10, Seed = 2, Preprocessing = InputPreprocessing.ImageNet(32) };
        using var model = ModelZoo.Create(TorchVisionModels.EfficientNetB0Name, options);
        model.eval();
        string path = dir.File("grey.onnx");
        OnnxExporter.Export(model, path);   // 1×28×28 in, resize, grey → RGB and mean/std inside the graph
        var result = OnnxVerifier.Verify(model, path, rand(new long[] { 2, 1, 28, 28 }, generator: new Generator(1)));
        Assert.That(result.MaxAbsDifference, Is.LessThan(1e-4));
    }
}
