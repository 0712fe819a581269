using FashionVision.Data;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Onnx.Protobuf;

namespace FashionVision.Onnx.Tests;

/// <summary>
/// The wrappers that change what a model computes at inference export to graphs ONNX Runtime runs to within 1e-4 of
/// TorchSharp: a 224-px ImageNet ResNet-18 that preprocesses 28×28 images itself, a TTA-averaged graph and an ensemble.
/// </summary>
public class InferenceExportTests
{
    private const double Tolerance = 1e-4;

    private static string[] OpTypes(string path) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Select(n => n.OpType).ToArray();

    private static float[] Pixels(Tensor images) => images.contiguous().data<float>().ToArray();

    [Test]
    public void ResNet18ImageNetAt224PreprocessesRealImagesLikeOnnxRuntime()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create("resnet18-imagenet", new ModelOptions
        {
            InputChannels = 1,
            NumClasses = 10,
            Seed = 4,
            Preprocessing = InputPreprocessing.ImageNet(224),
        });
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File("resnet18-224.onnx");

        OnnxExporter.Export(model, path, new OnnxExportOptions { ClassNames = FashionMnistSamples.ClassNames });

        // Raw [0, 1] test images at 28×28: the graph resizes to 224, repeats the grey channel and normalises, as the model does.
        var (images, _) = FashionMnistSamples.TestSet(4);
        var result = OnnxVerifier.Verify(model, path, images);
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(result.PredictionAgreement, Is.EqualTo(1.0));
        Assert.That(OpTypes(path), Is.SupersetOf(new[] { "Shape", "Resize", "Concat", "Sub", "Div", "Conv", "MaxPool" }));

        using var predictor = OnnxPredictor.Load(path);
        Assert.That(predictor.InputShape, Is.EqualTo((1, 28, 28)));
        using var torchPredictor = new Predictor(model, FashionMnistSamples.ClassNames, null, (1, 28, 28));
        var fromOnnx = predictor.Predict(Pixels(images), 4);
        var fromTorch = torchPredictor.Predict(images);
        for (int i = 0; i < 4; i++)
            Assert.That(fromOnnx[i].Probabilities, Is.EqualTo(fromTorch[i].Probabilities).Within(1e-4f));
    }

    [Test]
    public void ShrinkingNeedsOpset18AndThenMatches()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 2, Preprocessing = new InputPreprocessing { Size = 20 } });
        TestModels.RandomizeBatchNorm(model);
        var e = Assert.Throws<NotSupportedException>(() => OnnxExporter.Export(model, dir.File("17.onnx")))!;
        Assert.That(e.Message, Does.Contain("opset 18"));

        var path = dir.File("18.onnx");
        OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = 18 });
        var (images, _) = FashionMnistSamples.TestSet(16);
        Assert.That(OnnxVerifier.Verify(model, path, images).MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
    }

    [Test]
    public void TtaGraphAveragesTheViewsLikeThePredictor()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var trained = TrainedModel.Instance;
        var stats = new ChannelStatistics([FashionMnistSamples.Mean], [FashionMnistSamples.Std]);
        var policy = TestTimeAugmentation.Parse("flip,shift1");
        var tta = new TtaClassifier(trained.Model, policy, stats);   // not disposed: it would dispose the shared trained model
        var path = dir.File("tta.onnx");

        OnnxExporter.Export(tta, path, TrainedModel.ExportOptions);

        var (images, _) = FashionMnistSamples.TestSet(32);
        var result = OnnxVerifier.Verify(tta, path, FashionMnistSamples.Normalize(images));
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        var ops = OpTypes(path);
        Assert.That(ops.Count(op => op == "Conv"), Is.EqualTo(OpTypes(trained.OnnxPath).Count(op => op == "Conv")), "the model appears once: the views are one batch");
        Assert.That(ops, Is.SupersetOf(new[] { "Slice", "Pad", "Sub", "Add", "LogSoftmax", "Exp", "Log", "ReduceMean", "ReduceMax" }));

        // The ONNX predictor (normalising from the metadata) gives the TorchSharp predictor's TTA probabilities.
        using var onnx = OnnxPredictor.Load(path);
        using var torchPredictor = new Predictor(trained.Model, FashionMnistSamples.ClassNames, stats, (1, 28, 28), tta: policy);
        var fromOnnx = onnx.Predict(Pixels(images), 32);
        var fromTorch = torchPredictor.Predict(images);
        for (int i = 0; i < 32; i++)
            Assert.That(fromOnnx[i].Probabilities, Is.EqualTo(fromTorch[i].Probabilities).Within(1e-4f), $"image {i}");
    }

    [Test]
    public void EnsembleGraphAveragesItsMembers()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var members = new nn.Module<Tensor, Tensor>[] { TestModels.SmallCnn(seed: 1), TestModels.SmallCnn(seed: 2), TestModels.AttentionResNet(seed: 3) };
        foreach (var member in members)
            TestModels.RandomizeBatchNorm(member);
        using var ensemble = new EnsembleClassifier(members);
        var path = dir.File("ensemble.onnx");

        OnnxExporter.Export(ensemble, path, new OnnxExportOptions(), TestModels.Registry());

        var (images, _) = FashionMnistSamples.TestSet(16);
        var result = OnnxVerifier.Verify(ensemble, path, FashionMnistSamples.Normalize(images));
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer.Select(i => i.Name), Has.Some.StartsWith("members.2."));

        using var byLogits = new EnsembleClassifier([TestModels.SmallCnn(seed: 1), TestModels.SmallCnn(seed: 2)], PredictionAveraging.Logits);
        var logitsPath = dir.File("mean-logits.onnx");
        OnnxExporter.Export(byLogits, logitsPath);
        Assert.That(OnnxVerifier.Verify(byLogits, logitsPath, FashionMnistSamples.Normalize(images)).MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
    }
}
