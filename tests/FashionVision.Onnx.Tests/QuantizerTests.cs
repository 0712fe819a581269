using FashionVision.Models;
using FashionVision.Onnx.Protobuf;

namespace FashionVision.Onnx.Tests;

public class QuantizerTests
{
    private const int EvaluationImages = 2000;

    private static (int[] Predictions, double Accuracy) Evaluate(string path, Tensor images, Tensor labels)
    {
        using var predictor = OnnxPredictor.Load(path);
        var pixels = images.contiguous().data<float>().ToArray();
        var predictions = predictor.Predict(pixels, (int)images.shape[0], topK: 1).Select(p => p.ClassIndex).ToArray();
        var truth = labels.data<long>().ToArray();
        return (predictions, predictions.Where((p, i) => p == truth[i]).Count() / (double)truth.Length);
    }

    // Auto is what this machine writes (full-range weights where the CPU has VNNI); Portable is what a CPU without VNNI
    // writes, and ONNX Runtime computes it exactly on every CPU, so these cases hold on both classes.
    [TestCase(CalibrationMethod.MinMax, ActivationQuantizationType.UInt8, Int8Target.Auto)]
    [TestCase(CalibrationMethod.Percentile, ActivationQuantizationType.Int8, Int8Target.Auto)]
    [TestCase(CalibrationMethod.MinMax, ActivationQuantizationType.UInt8, Int8Target.Portable)]
    [TestCase(CalibrationMethod.Percentile, ActivationQuantizationType.Int8, Int8Target.Portable)]
    public void Int8ModelAgreesWithFp32AndIsAboutFourTimesSmaller(CalibrationMethod method, ActivationQuantizationType activationType, Int8Target target)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var trained = TrainedModel.Instance;
        var (calibration, _) = FashionMnistSamples.TrainSet(256);
        var int8Path = dir.File("int8.onnx");

        var report = OnnxQuantizer.QuantizeStatic(trained.OnnxPath, int8Path, calibration,
            new OnnxQuantizationOptions { Method = method, ActivationType = activationType, Target = target });

        var (images, labels) = FashionMnistSamples.TestSet(EvaluationImages);
        var (fp32, fp32Accuracy) = Evaluate(trained.OnnxPath, images, labels);
        var (int8, int8Accuracy) = Evaluate(int8Path, images, labels);
        var agreement = fp32.Where((p, i) => p == int8[i]).Count() / (double)fp32.Length;

        Assert.That(fp32Accuracy, Is.GreaterThan(0.8), "the briefly trained model must have learned something");
        Assert.That(agreement, Is.GreaterThanOrEqualTo(0.99));
        Assert.That(int8Accuracy, Is.GreaterThanOrEqualTo(fp32Accuracy - 0.01));
        Assert.That(report.CompressionRatio, Is.GreaterThanOrEqualTo(3.5));
        Assert.That(report.QuantizedBytes, Is.EqualTo(new FileInfo(int8Path).Length));
        Assert.That(report.QuantizedWeights, Is.EqualTo(4), "two convolutions and two Gemms");
        Assert.That(report.CalibrationImages, Is.EqualTo(256));
        Assert.That(report.Target, Is.EqualTo(Int8TargetChoice.Resolve(target)));
    }

    [Test]
    public void PortableWeightsFitSevenBitsSoNoPairOfProductsCanSaturateAnInt16()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var (calibration, _) = FashionMnistSamples.TrainSet(64);
        string portable = dir.File("portable.onnx"), vnni = dir.File("vnni.onnx");
        OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, portable, calibration, new OnnxQuantizationOptions { Target = Int8Target.Portable });
        OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, vnni, calibration, new OnnxQuantizationOptions { Target = Int8Target.Vnni });

        var portableMax = LargestWeight(portable);
        // VPMADDUBSW adds two uint8 × int8 products into a saturating int16: the worst case must fit.
        Assert.That(portableMax, Is.LessThanOrEqualTo(Int8TargetChoice.ReducedRangeWeightMax));
        Assert.That(2 * 255 * portableMax, Is.LessThanOrEqualTo(short.MaxValue));
        Assert.That(portableMax, Is.EqualTo(63), "each channel's largest weight maps to the end of the range");
        var vnniMax = LargestWeight(vnni);
        Assert.That(vnniMax, Is.EqualTo(127), "VNNI models use the full range");
        Assert.That(2 * 255 * vnniMax, Is.GreaterThan(short.MaxValue), "which is why they are not for CPUs without VNNI");

        var metadata = ModelProto.Parser.ParseFrom(File.ReadAllBytes(portable)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.That(metadata[OnnxMetadataKeys.Int8Target], Is.EqualTo("portable"));
        Assert.That(metadata[OnnxMetadataKeys.Int8WeightMax], Is.EqualTo("63"));
        Assert.That(metadata[OnnxMetadataKeys.Int8TargetReason], Does.Contain("7-bit"));
    }

    [Test]
    public void AutoReadsTheCpuAndTheExplicitTargetsDoNot()
    {
        static Native.CpuFeatures Cpu(System.Runtime.InteropServices.Architecture architecture, params string[] flags) =>
            new() { Architecture = architecture, ModelName = "test CPU", Flags = flags.ToHashSet() };
        var zen3 = Cpu(System.Runtime.InteropServices.Architecture.X64, "avx2", "fma");
        var cascadeLake = Cpu(System.Runtime.InteropServices.Architecture.X64, "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni");
        var alderLake = Cpu(System.Runtime.InteropServices.Architecture.X64, "avx2", "fma", "avx_vnni");
        var graviton = Cpu(System.Runtime.InteropServices.Architecture.Arm64, "asimd", "asimddp");

        Assert.Multiple(() =>
        {
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Auto, zen3), Has.Property("Target").EqualTo(Int8Target.Portable).And.Property("WeightMax").EqualTo(63));
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Auto, cascadeLake), Has.Property("Target").EqualTo(Int8Target.Vnni).And.Property("WeightMax").EqualTo(127));
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Auto, alderLake).Reason, Does.Contain("AVX-VNNI"));
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Auto, graviton).Target, Is.EqualTo(Int8Target.Portable));
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Vnni, zen3).WeightMax, Is.EqualTo(127));
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Avx2, cascadeLake).WeightMax, Is.EqualTo(63));
            Assert.That(Int8TargetChoice.Resolve(Int8Target.Portable, cascadeLake).WeightMax, Is.EqualTo(63));
        });
    }

    /// <summary>The largest |int8| among a QDQ file's quantized Conv/Gemm weights.</summary>
    private static int LargestWeight(string path) =>
        ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Initializer
            .Where(t => t.Name.EndsWith("weight_quantized") && t.DataType == (int)TensorProto.Types.DataType.Int8)
            .SelectMany(t => t.RawData.ToByteArray())
            .Max(b => Math.Abs((int)(sbyte)b));

    [Test]
    public void WeightsAreStoredAsInt8AndOnnxRuntimeFusesIntegerKernels()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var (calibration, _) = FashionMnistSamples.TrainSet(64);
        var int8Path = dir.File("int8.onnx");
        OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, int8Path, calibration);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(int8Path));
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        Assert.That(initializers["conv1.weight_quantized"].DataType, Is.EqualTo((int)TensorProto.Types.DataType.Int8));
        Assert.That(initializers["fc.weight_quantized"].DataType, Is.EqualTo((int)TensorProto.Types.DataType.Int8));
        Assert.That(initializers["conv1.bias_quantized"].DataType, Is.EqualTo((int)TensorProto.Types.DataType.Int32));
        Assert.That(initializers.Values.Where(t => t.DataType == (int)TensorProto.Types.DataType.Float).Sum(t => t.RawData.Length),
            Is.LessThan(2048), "only scales stay float");
        Assert.That(model.Graph.Node.Select(n => n.OpType), Does.Not.Contain("Relu"), "ReLU folds into the quantization");
        Assert.That(model.MetadataProps.Single(p => p.Key == OnnxMetadataKeys.Quantization).Value, Is.EqualTo(OnnxQuantizer.QdqInt8));
        Assert.That(model.MetadataProps.Single(p => p.Key == OnnxMetadataKeys.ClassNames).Value, Does.Contain("Ankle boot"));

        var optimizedOps = OnnxRuntimeGraphs.OptimizedOps(int8Path, dir);
        Assert.That(optimizedOps, Does.Contain("QLinearConv"), string.Join(", ", optimizedOps));
        Assert.That(optimizedOps, Does.Not.Contain("Conv"), string.Join(", ", optimizedOps));
    }

    [Test]
    public void BadInputsAreRejected()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var (calibration, _) = FashionMnistSamples.TrainSet(8);
        var int8Path = dir.File("int8.onnx");
        OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, int8Path, calibration);

        Assert.That(() => OnnxQuantizer.QuantizeStatic(int8Path, dir.File("again.onnx"), calibration),
            Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("already quantized"));
        Assert.That(() => OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, dir.File("x.onnx"), new float[100], 1),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("calibrationImages"));
        Assert.That(() => OnnxQuantizer.QuantizeStatic(TrainedModel.Instance.OnnxPath, dir.File("x.onnx"), calibration,
                new OnnxQuantizationOptions { Percentile = 20 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Percentile"));
        Assert.That(() => OnnxQuantizer.QuantizeStatic(dir.File("missing.onnx"), dir.File("x.onnx"), calibration),
            Throws.InstanceOf<FileNotFoundException>());
        Assert.That(File.Exists(dir.File("x.onnx")), Is.False);
    }

    [TestCase("cbam-resnet18")]
    [TestCase("mobilenet")]
    public void ResidualAndAttentionGraphsQuantizeAndStayClose(string name)
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var model = ModelZoo.Create(name, new ModelOptions { Width = 0.25, Seed = 5 });
        TestModels.RandomizeBatchNorm(model);
        var fp32Path = dir.File("fp32.onnx");
        var int8Path = dir.File("int8.onnx");
        OnnxExporter.Export(model, fp32Path, TrainedModel.ExportOptions);
        var (calibration, _) = FashionMnistSamples.TrainSet(64);
        OnnxQuantizer.QuantizeStatic(fp32Path, int8Path, calibration);

        var (images, _) = FashionMnistSamples.TestSet(32);
        var pixels = images.contiguous().data<float>().ToArray();
        using var fp32 = OnnxPredictor.Load(fp32Path);
        using var int8 = OnnxPredictor.Load(int8Path);
        var expected = tensor(fp32.PredictLogits(pixels, 32));
        var actual = tensor(int8.PredictLogits(pixels, 32));

        var relativeError = ((actual - expected).norm() / expected.norm()).item<float>();
        Assert.That(relativeError, Is.LessThan(0.1));
        var ops = ModelProto.Parser.ParseFrom(File.ReadAllBytes(int8Path)).Graph.Node.Select(n => n.OpType).ToArray();
        Assert.That(ops, Does.Not.Contain("Relu"), "every ReLU follows a Conv or an Add and folds into its quantization");
    }
}
