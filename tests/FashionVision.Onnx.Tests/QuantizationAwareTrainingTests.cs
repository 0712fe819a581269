using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Onnx.Protobuf;
using FashionVision.Training;
using Microsoft.ML.OnnxRuntime;

namespace FashionVision.Onnx.Tests;

/// <summary>
/// Quantization-aware training: the TorchSharp module built from an exported graph computes that graph (1e-4), its fake
/// quantization is what ONNX Runtime computes on the QDQ file, fine-tuning trains through it, and the exported INT8 model
/// carries the training's scales and fuses into integer kernels.
/// </summary>
public class QuantizationAwareTrainingTests
{
    private static Tensor Calibration(int count) => FashionMnistSamples.TrainSet(count).Images;

    private static Tensor TestBatch(int count) => FashionMnistSamples.Normalize(FashionMnistSamples.TestSet(count).Images);

    private static string ExportZooModel(string name, double width, TempDirectory dir)
    {
        using var model = ModelZoo.Create(name, new ModelOptions { Width = width, Seed = 8 });
        TestModels.RandomizeBatchNorm(model);
        var path = dir.File(name + ".onnx");
        OnnxExporter.Export(model, path, TrainedModel.ExportOptions);
        return path;
    }

    // fast-cnn: a BatchNormalization node after a max-pool, residual Adds, ReduceMean/ReduceMax and Concat before the Gemm;
    // resnet18: projection shortcuts, GlobalAveragePool and Flatten.
    [TestCase("fast-cnn", 1.0 / 3)]
    [TestCase("resnet18", 0.125)]
    public void TheTrainableModuleComputesTheExportedGraph(string name, double width)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var path = ExportZooModel(name, width, dir);
        using var qat = QuantizationAwareModel.Create(path, Calibration(32));
        qat.FakeQuantize = false;

        var fp32 = OnnxVerifier.Verify(qat, path, TestBatch(16));
        Assert.That(fp32.MaxAbsDifference, Is.LessThanOrEqualTo(1e-4));
        Assert.That(qat.Normalization!.Mean, Is.EqualTo(new[] { FashionMnistSamples.Mean }));
        Assert.That(qat.ClassNames, Is.EqualTo(FashionMnistSamples.ClassNames));
        // Weights and biases train; running statistics, shapes and axes stay constants.
        var initializers = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer;
        Assert.That(qat.parameters().Count() + qat.buffers().Count(), Is.EqualTo(initializers.Count));
        Assert.That(qat.parameters().Count(), Is.EqualTo(initializers.Count(i => i.Name.EndsWith(".weight") || i.Name.EndsWith(".bias"))));
    }

    // Auto is this machine's form; Portable (7-bit weights) is what a CPU without VNNI runs, and must hold everywhere.
    [TestCase(Int8Target.Auto)]
    [TestCase(Int8Target.Portable)]
    public void BeforeTrainingItIsThePostTrainingQuantizedModelAndOnnxRuntimeComputesItsFakeQuantization(Int8Target target)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var path = ExportZooModel("fast-cnn", 1.0 / 3, dir);
        var calibration = Calibration(64);
        var ptqPath = dir.File("ptq.onnx");
        var qatPath = dir.File("qat.onnx");
        var options = new OnnxQuantizationOptions { Target = target };
        OnnxQuantizer.QuantizeStatic(path, ptqPath, calibration, options);
        using var qat = QuantizationAwareModel.Create(path, calibration, options);
        var report = qat.Export(qatPath);
        Assert.That(report.Target, Is.EqualTo(Int8TargetChoice.Resolve(target)), "QAT quantizes for the same target");

        // One plan, one calibration, one arithmetic: the same file byte for byte.
        Assert.That(File.ReadAllBytes(qatPath), Is.EqualTo(File.ReadAllBytes(ptqPath)));
        Assert.That(report.QuantizedActivations, Is.EqualTo(qat.ActivationQuantization.Count));

        // ONNX Runtime running the QDQ pairs as written (no fusion) computes the module's fake quantization; with its
        // integer kernels it differs only by the rounding of the requantized int32 accumulators.
        var batch = TestBatch(32);
        Tensor simulated;
        using (no_grad())
            simulated = qat.call(batch);
        var literal = OnnxRuntimeGraphs.Run(qatPath, batch, GraphOptimizationLevel.ORT_DISABLE_ALL);
        var fused = OnnxRuntimeGraphs.Run(qatPath, batch, GraphOptimizationLevel.ORT_ENABLE_ALL);
        var scale = simulated.abs().max().item<float>();
        // Float sums in another order can put an activation on the other side of a rounding boundary, one step that
        // propagates: up to 1.3e-3 of the largest logit measured with 7-bit weights, under 1e-3 with full-range ones.
        Assert.That((literal - simulated).abs().max().item<float>(), Is.LessThanOrEqualTo(2e-3 * scale));
        Assert.That((literal - simulated).abs().mean().item<float>(), Is.LessThanOrEqualTo(1e-4 * scale));
        Assert.That(((fused - simulated).norm() / simulated.norm()).item<float>(), Is.LessThan(0.02));
        Assert.That(fused.argmax(1).eq(simulated.argmax(1)).to(float32).mean().item<float>(), Is.GreaterThanOrEqualTo(0.9f));
    }

    [Test]
    public void FineTuningTrainsThroughTheFakeQuantizationAndExportsTheTrainingsScales()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var fp32Path = TrainedModel.Instance.OnnxPath;
        var (pixels, labels) = FashionMnistSamples.TrainSet(2_000);
        using var train = new InMemoryDataset(pixels.mul(255).round().to(ScalarType.Byte), labels, FashionMnistSamples.ClassNames, "fashion-mnist-2k");
        var ptqPath = dir.File("ptq.onnx");
        var qatPath = dir.File("qat.onnx");
        var calibration = pixels[..256];
        OnnxQuantizer.QuantizeStatic(fp32Path, ptqPath, calibration);

        var result = OnnxQuantizer.QuantizeWithTraining(fp32Path, qatPath, train, new QuantizationAwareTrainingOptions
        {
            CalibrationImages = 256,
            Training = new QuantizationAwareTrainingOptions().Training with { BatchSize = 64, Seed = 3 },
        });

        Assert.That(result.History.Epochs, Has.Count.EqualTo(1));
        Assert.That(result.History.Epochs[0].TrainLoss, Is.GreaterThan(0).And.LessThan(1.5));
        Assert.That(result.Quantization.CompressionRatio, Is.GreaterThan(3));
        Assert.That(result.Quantization.CalibrationImages, Is.EqualTo(256));

        var qat = ModelProto.Parser.ParseFrom(File.ReadAllBytes(qatPath)).Graph.Initializer.ToDictionary(t => t.Name);
        var ptq = ModelProto.Parser.ParseFrom(File.ReadAllBytes(ptqPath)).Graph.Initializer.ToDictionary(t => t.Name);
        Assert.That(qat.Keys, Is.EquivalentTo(ptq.Keys), "the same QDQ graph");
        Assert.That(qat["conv1.weight_quantized"].RawData, Is.Not.EqualTo(ptq["conv1.weight_quantized"].RawData), "the fine-tuned weights");
        // The activations keep the scales and zero points calibrated before the fine-tuning and frozen during it.
        using (var frozen = QuantizationAwareModel.Create(fp32Path, calibration))
        {
            foreach (var (tensorName, (scale, zeroPoint)) in frozen.ActivationQuantization)
            {
                Assert.That(OnnxTensors.FromProto(qat[tensorName + "_scale"]).item<float>(), Is.EqualTo(scale), tensorName);
                Assert.That(qat[tensorName + "_zp"].RawData[0], Is.EqualTo((byte)zeroPoint), tensorName);
            }
        }

        var optimized = OnnxRuntimeGraphs.OptimizedOps(qatPath, dir);
        Assert.That(optimized, Does.Contain("QLinearConv"), string.Join(", ", optimized));
        Assert.That(optimized, Does.Not.Contain("Conv"), string.Join(", ", optimized));

        var (testImages, testLabels) = FashionMnistSamples.TestSet(1_000);
        double Accuracy(string path)
        {
            using var predictor = OnnxPredictor.Load(path);
            var predictions = predictor.Predict(testImages.contiguous().data<float>().ToArray(), 1_000, topK: 1);
            var truth = testLabels.data<long>().ToArray();
            return predictions.Where((p, i) => p.ClassIndex == truth[i]).Count() / 1000.0;
        }
        Assert.That(Accuracy(qatPath), Is.GreaterThanOrEqualTo(Accuracy(ptqPath) - 0.01));
    }

    [Test]
    public void BadInputsAreRejected()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var calibration = Calibration(8);
        var int8Path = dir.File("int8.onnx");
        OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, int8Path, calibration);
        Assert.That(() => QuantizationAwareModel.Create(int8Path, calibration),
            Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("already quantized"));
        Assert.That(() => QuantizationAwareModel.Create(dir.File("missing.onnx"), calibration), Throws.InstanceOf<FileNotFoundException>());
        Assert.That(() => QuantizationAwareModel.Create(TrainedModel.Instance.OnnxPath, calibration[0]),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("calibrationImages"));

        using var threeClasses = new InMemoryDataset(zeros(new long[] { 4, 1, 28, 28 }, ScalarType.Byte), tensor(new long[] { 0, 1, 2, 0 }), ["a", "b", "c"]);
        Assert.That(() => OnnxQuantizer.QuantizeWithTraining(TrainedModel.Instance.OnnxPath, dir.File("x.onnx"), threeClasses),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("trainSet"));
        Assert.That(() => OnnxQuantizer.QuantizeWithTraining(TrainedModel.Instance.OnnxPath, dir.File("x.onnx"), threeClasses,
                new QuantizationAwareTrainingOptions { CalibrationImages = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("CalibrationImages"));
        Assert.That(File.Exists(dir.File("x.onnx")), Is.False);
    }
}
