using FashionVision.Onnx.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TorchSharp.Modules;

namespace FashionVision.Onnx.Tests;

public class ExportTests
{
    private const double Tolerance = 1e-4;

    private static Tensor RealBatch(int count)
    {
        var (images, _) = FashionMnistSamples.TestSet(count);
        return FashionMnistSamples.Normalize(images);
    }

    private static ModelProto ReadModel(string path) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

    private static string[] OpTypes(string path) => ReadModel(path).Graph.Node.Select(n => n.OpType).ToArray();

    [Test]
    public void SmallCnnWithFoldedBatchNormMatchesTorchSharpOnRealImages()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var model = TestModels.SmallCnn();
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File("small.onnx");

        OnnxExporter.Export(model, path);

        var result = OnnxVerifier.Verify(model, path, RealBatch(64));
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(result.BatchSize, Is.EqualTo(64));
        Assert.That(result.PredictionAgreement, Is.EqualTo(1.0));
        var ops = OpTypes(path);
        Assert.That(ops, Does.Not.Contain("BatchNormalization"));
        Assert.That(ops, Does.Not.Contain("Dropout"));
        Assert.That(ops.Distinct(), Is.EquivalentTo(new[] { "Conv", "Relu", "MaxPool", "Flatten", "Gemm" }));
    }

    [Test]
    public void BatchNormExportsAsNodeWhenFoldingIsOff()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var model = TestModels.SmallCnn();
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File("unfolded.onnx");

        OnnxExporter.Export(model, path, new OnnxExportOptions { FoldBatchNorm = false });

        Assert.That(OpTypes(path).Count(op => op == "BatchNormalization"), Is.EqualTo(2));
        Assert.That(OnnxVerifier.Verify(model, path, RealBatch(32)).MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
    }

    [TestCase(17)]
    [TestCase(18)]
    public void ResidualAndAttentionBlocksExportThroughRegisteredConverters(int opset)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var model = TestModels.AttentionResNet();
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File("attention.onnx");

        OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = opset }, TestModels.Registry());

        var result = OnnxVerifier.Verify(model, path, RealBatch(32));
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(OpTypes(path), Is.SupersetOf(new[] { "Add", "ReduceMean", "ReduceMax", "Sigmoid", "Mul", "Concat", "GlobalAveragePool" }));
        Assert.That(ReadModel(path).OpsetImport.Single().Version, Is.EqualTo(opset));
    }

    [Test]
    public void ActivationsPoolingAndDepthwiseConvolutionsMatch()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        manual_seed(5);
        var model = nn.Sequential(
            ("conv", nn.Conv2d(1, 8, 3, padding: 1)), ("leaky", nn.LeakyReLU(0.1)),
            ("depthwise", nn.Conv2d(8, 8, 3, padding: 1, groups: 8)), ("silu", nn.SiLU()),
            ("pointwise", nn.Conv2d(8, 16, 1)), ("gelu", nn.GELU()),
            ("avg", nn.AvgPool2d([2, 2])), ("hardswish", nn.Hardswish()),
            ("strided", nn.Conv2d(16, 16, 3, stride: 2, padding: 1)), ("relu6", nn.ReLU6()),
            ("same", nn.Conv2d(16, 8, 5, Padding.Same)), ("gelu_tanh", nn.GELU(GELU.Approximate.tanh)),
            ("elu", nn.ELU()), ("tanh", nn.Tanh()),
            ("adaptive", nn.AdaptiveAvgPool2d(new long[] { 7, 7 })), ("flatten", nn.Flatten()),
            ("fc1", nn.Linear(8 * 7 * 7, 32)), ("sigmoid", nn.Sigmoid()), ("identity", nn.Identity()),
            ("fc2", nn.Linear(32, 10)));
        var path = dir.File("activations.onnx");

        OnnxExporter.Export(model, path);

        Assert.That(OnnxVerifier.Verify(model, path, RealBatch(16)).MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        var conv = ReadModel(path).Graph.Node.First(n => n.Name.StartsWith("depthwise"));
        Assert.That(conv.Attribute.Single(a => a.Name == "group").I, Is.EqualTo(8));
    }

    [Test]
    public void BatchDimensionIsDynamic()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var model = TestModels.AttentionResNet();
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File("dynamic.onnx");
        OnnxExporter.Export(model, path, null, TestModels.Registry());

        var input = ReadModel(path).Graph.Input.Single();
        Assert.That(input.Type.TensorType.Shape.Dim[0].DimParam, Is.EqualTo("N"));
        foreach (var batchSize in new[] { 1, 7 })
        {
            var result = OnnxVerifier.Verify(model, path, RealBatch(batchSize));
            Assert.That(result.BatchSize, Is.EqualTo(batchSize));
            Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance), $"batch {batchSize}");
        }
    }

    [Test]
    public void MetadataRoundTripsThroughOnnxRuntime()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var path = dir.File("meta.onnx");
        OnnxExporter.Export(TestModels.SmallCnn(), path, new OnnxExportOptions
        {
            ClassNames = FashionMnistSamples.ClassNames,
            Mean = [FashionMnistSamples.Mean],
            Std = [FashionMnistSamples.Std],
            ProducerName = "tests",
            ProducerVersion = "9.9",
        });

        using var session = new InferenceSession(path);
        var metadata = session.ModelMetadata;
        Assert.That(metadata.ProducerName, Is.EqualTo("tests"));
        var map = metadata.CustomMetadataMap;
        Assert.That(System.Text.Json.JsonSerializer.Deserialize<string[]>(map[OnnxMetadataKeys.ClassNames]), Is.EqualTo(FashionMnistSamples.ClassNames));
        Assert.That(System.Text.Json.JsonSerializer.Deserialize<float[]>(map[OnnxMetadataKeys.Mean]), Is.EqualTo(new[] { FashionMnistSamples.Mean }));
        Assert.That(System.Text.Json.JsonSerializer.Deserialize<float[]>(map[OnnxMetadataKeys.Std]), Is.EqualTo(new[] { FashionMnistSamples.Std }));
        Assert.That(session.InputNames, Is.EqualTo(new[] { "input" }));
        Assert.That(session.OutputNames, Is.EqualTo(new[] { "logits" }));
        Assert.That(session.OutputMetadata["logits"].Dimensions, Is.EqualTo(new[] { -1, 10 }));
    }

    [Test]
    public void UnsupportedModuleNamesItsPathTypeAndTheFix()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("features", nn.Sequential(("0", nn.Conv2d(1, 4, 3)), ("block", new SqueezeExcite(4, 2)))),
            ("flatten", nn.Flatten()), ("fc", nn.Linear(4 * 26 * 26, 10)));

        var error = Assert.Throws<NotSupportedException>(() => OnnxExporter.ExportToBytes(model));

        Assert.That(error!.Message, Does.Contain("'features.block'"));
        Assert.That(error.Message, Does.Contain(typeof(SqueezeExcite).FullName));
        Assert.That(error.Message, Does.Contain("OnnxConverterRegistry.Default.Register"));
    }

    [Test]
    public void ConverterThatDiffersFromForwardIsCaughtAtExport()
    {
        using var scope = NewDisposeScope();
        var registry = TestModels.Registry();
        // Forgets the final ReLU of the block.
        registry.Register<ResidualBlock>((c, block, x) =>
            c.Add(c.ConvertConvolution(block.Conv2, block.Bn2, c.Relu(c.ConvertConvolution(block.Conv1, block.Bn1, x, "Conv1", "Bn1")), "Conv2", "Bn2"), x));
        var model = nn.Sequential(("block", new ResidualBlock(1, 1, 1)), ("flatten", nn.Flatten()), ("fc", nn.Linear(784, 10)));

        var error = Assert.Throws<InvalidOperationException>(() => OnnxExporter.ExportToBytes(model, null, registry));

        Assert.That(error!.Message, Does.Contain("'block'"));
    }

    [Test]
    public void ExportReplacesTheFileAtomicallyAndRestoresTrainingMode()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var path = dir.File("model.onnx");
        File.WriteAllText(path, "old content");
        var model = TestModels.SmallCnn();
        model.train();

        OnnxExporter.Export(model, path);

        Assert.That(model.training, Is.True);
        Assert.That(Directory.GetFiles(dir.Path), Is.EqualTo(new[] { path }));
        Assert.That(ReadModel(path).Graph.Node, Is.Not.Empty);
    }

    [Test]
    public void BadOptionsAreRejectedByName()
    {
        using var scope = NewDisposeScope();
        var model = TestModels.SmallCnn();
        Assert.That(() => OnnxExporter.ExportToBytes(model, new OnnxExportOptions { Opset = 16 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Opset"));
        Assert.That(() => OnnxExporter.ExportToBytes(model, new OnnxExportOptions { Mean = [0.5f] }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("Std"));
        Assert.That(() => OnnxExporter.ExportToBytes(model, new OnnxExportOptions { ClassNames = ["a", "b"] }),
            Throws.ArgumentException.With.Message.Contains("2 class names"));
    }
}
