using FashionVision.Models;
using FashionVision.Onnx.Protobuf;

namespace FashionVision.Onnx.Tests;

/// <summary>Every model in the zoo exports, and ONNX Runtime reproduces its eval-mode logits on real Fashion-MNIST images.</summary>
public class ZooExportTests
{
    private const double Tolerance = 1e-4;

    private static IEnumerable<string> ZooNames() => ModelZoo.Names;

    private static Tensor RealBatch(int count, int channels, int height, int width)
    {
        var (images, _) = FashionMnistSamples.TestSet(count);
        var batch = FashionMnistSamples.Normalize(images);
        if (height != 28 || width != 28)
            batch = nn.functional.interpolate(batch, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
        return channels == 1 ? batch : batch.expand(count, channels, height, width).contiguous();
    }

    [TestCaseSource(nameof(ZooNames))]
    public void ExportsAndMatchesTorchSharp(string name)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var registration = ModelZoo.GetRegistration(name);
        var options = registration.DefaultOptions with { Seed = 42 };
        using var model = ModelZoo.Create(name, options);
        TestModels.RandomizeBatchNorm(model);
        var (height, width) = (registration.InputHeight, registration.InputWidth);
        var path = dir.File(name + ".onnx");

        OnnxExporter.Export(model, path, new OnnxExportOptions { Channels = model.InputChannels, Height = height, Width = width });

        var batchSize = height * width > 28 * 28 || name.StartsWith("wrn-28") ? 2 : 8;
        var result = OnnxVerifier.Verify(model, path, RealBatch(batchSize, model.InputChannels, height, width));
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(result.PredictionAgreement, Is.EqualTo(1.0));
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        Assert.That(graph.Output.Single().Type.TensorType.Shape.Dim[1].DimValue, Is.EqualTo(model.NumClasses));
        Assert.That(graph.Node.Select(n => n.OpType), Does.Not.Contain("Dropout"));
    }

    // Pruned models are the same module types with smaller, uneven widths (and FastCnn's head reads 2 × the kept channels).
    [TestCase("fast-cnn", 1.0, 0.6)]
    [TestCase("resnet18", 0.25, 0.4)]
    public void PrunedModelsExportAndMatchTorchSharp(string name, double width, double keep)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create(name, new ModelOptions { Width = width, Seed = 4 });
        TestModels.RandomizeBatchNorm(model);
        var result = FashionVision.Models.Pruning.ChannelPruner.Prune(model, new FashionVision.Models.Pruning.PruningOptions { Keep = keep });
        using var pruned = result.Model;
        var path = dir.File(name + "-pruned.onnx");

        OnnxExporter.Export(pruned, path);

        var verification = OnnxVerifier.Verify(pruned, path, RealBatch(8, 1, 28, 28));
        Assert.That(verification.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(verification.PredictionAgreement, Is.EqualTo(1.0));
        var weights = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer.Sum(t => t.RawData.Length / 4);
        Assert.That(weights, Is.LessThan(result.ParametersBefore * keep), "the file holds the smaller model's weights");
    }

    [Test]
    public void AttentionVariantsExportWithTheirOperators()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        foreach (var attention in new[] { AttentionKind.SqueezeExcitation, AttentionKind.Cbam })
        {
            using var model = ModelZoo.Create("small-cnn", new ModelOptions { Attention = attention, Width = 0.5, Seed = 3 });
            TestModels.RandomizeBatchNorm(model);
            var path = dir.File($"{attention}.onnx");
            OnnxExporter.Export(model, path);

            Assert.That(OnnxVerifier.Verify(model, path, RealBatch(8, 1, 28, 28)).MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance), attention.ToString());
            var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Select(n => n.OpType).ToArray();
            Assert.That(ops, Is.SupersetOf(new[] { "GlobalAveragePool", "Sigmoid", "Mul" }), attention.ToString());
            if (attention == AttentionKind.Cbam)
                Assert.That(ops, Is.SupersetOf(new[] { "GlobalMaxPool", "Concat", "ReduceMean", "ReduceMax", "ReduceSum" }));
        }
    }

    [Test]
    public void CosineHeadExportsAsNormalisedGemm()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create("fast-cnn", new ModelOptions { Width = 0.5, Seed = 2, Head = HeadKind.Cosine, CosineScale = 12 });
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File("cosine.onnx");
        OnnxExporter.Export(model, path);

        var result = OnnxVerifier.Verify(model, path, RealBatch(16, 1, 28, 28));
        Assert.That(result.MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance));
        Assert.That(result.PredictionAgreement, Is.EqualTo(1.0));
        var graph = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        Assert.That(graph.Node.Select(n => n.OpType), Is.SupersetOf(new[] { "ReduceL2", "Max", "Div", "Gemm" }));
        Assert.That(graph.Initializer.Select(i => i.Name), Does.Contain("head.cosine_weight"));
    }

    [Test]
    public void VisionTransformerExportsWithLayerNormAndAttentionOperators()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create("small-vit", new ModelOptions { Width = 0.5, Seed = 4 });
        // Non-trivial LayerNorm affine parameters, so their export is checked too.
        using (no_grad())
            foreach (var norm in model.modules().OfType<TorchSharp.Modules.LayerNorm>())
            {
                norm.weight!.uniform_(0.5, 1.5);
                norm.bias!.uniform_(-0.2, 0.2);
            }
        foreach (var opset in new[] { 17, 21 })
        {
            var path = dir.File($"vit-{opset}.onnx");
            OnnxExporter.Export(model, path, new OnnxExportOptions { Opset = opset });
            Assert.That(OnnxVerifier.Verify(model, path, RealBatch(8, 1, 28, 28)).MaxAbsDifference, Is.LessThanOrEqualTo(Tolerance), $"opset {opset}");
            var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Select(n => n.OpType).ToArray();
            Assert.That(ops, Is.SupersetOf(new[] { "LayerNormalization", "MatMul", "Softmax", "Transpose", "Reshape" }), $"opset {opset}");
            Assert.That(ops.Count(op => op == "Softmax"), Is.EqualTo(6), "one attention per block");
        }
    }

    [Test]
    public void InitializersKeepStateDictNames()
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create("resnet18", new ModelOptions { Seed = 1 });
        var graph = ModelProto.Parser.ParseFrom(OnnxExporter.ExportToBytes(model)).Graph;
        var names = graph.Initializer.Select(i => i.Name).ToHashSet();
        Assert.That(names, Is.SupersetOf(new[] { "conv1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "fc.weight", "fc.bias" }));
        Assert.That(graph.Node.Count(n => n.OpType == "Conv"), Is.EqualTo(20), "17 3×3 convolutions and 3 downsampling 1×1");
        Assert.That(graph.Node.Count(n => n.OpType == "Add"), Is.EqualTo(8));
    }
}
