using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Models.Pruning;
using FashionVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// ONNX Runtime latency of the compression tables' models (docs/recipes.md, "Compression"): fast-cnn and resnet18 with
/// 100%, 80%, 60% and 40% of their channels (<see cref="ChannelPruner"/>), and LeNet-5 (the distilled student), each as FP32
/// and as INT8 (QDQ, calibrated on 256 training images), at batch 1 and 64, on real Fashion-MNIST test images through
/// <see cref="OnnxPredictor"/> (normalization included). Latency does not depend on the weights, so the models are
/// untrained (pruning a freshly initialised model gives the trained one's shapes); a quantization-aware INT8 model has the
/// same graph as the post-training one (a test checks it), so the INT8 rows time both.
/// Run: dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*CompressionBenchmarks*' --job short
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class CompressionBenchmarks
{
    private OnnxBenchmarkFiles _files = null!;
    private OnnxPredictor _fp32 = null!;
    private OnnxPredictor _int8 = null!;
    private float[] _pixels = [];

    /// <summary>The model and the fraction of channels it keeps, as "name@keep".</summary>
    [ParamsSource(nameof(Variants))]
    public string Variant { get; set; } = "fast-cnn@1.0";

    /// <summary>Images per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    /// <summary>Every row of the pruning and deployment tables.</summary>
    public static IEnumerable<string> Variants() =>
        new[] { ModelZoo.FastCnnName, "resnet18" }.SelectMany(m => new[] { "1.0", "0.8", "0.6", "0.4" }.Select(k => $"{m}@{k}")).Append("lenet5@1.0");

    [GlobalSetup]
    public void Setup()
    {
        var parts = Variant.Split('@');
        double keep = double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        var source = new FashionMnistSource();
        using var train = source.Load(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);
        using var model = ModelZoo.Create(parts[0], new ModelOptions { Seed = 0 });
        using var pruned = keep < 1 ? ChannelPruner.Prune(model, new PruningOptions { Keep = keep }).Model : null;
        var exported = pruned ?? model;
        exported.eval();
        _files = new OnnxBenchmarkFiles(exported, train);
        _fp32 = OnnxPredictor.Load(_files.Fp32);
        _int8 = OnnxPredictor.Load(_files.Int8);
        using var pixels = test.Images[..Batch].to(float32).div(255f).contiguous();
        _pixels = pixels.data<float>().ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fp32.Dispose();
        _int8.Dispose();
        _files.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float OnnxRuntimeFp32() => _fp32.PredictLogits(_pixels, Batch)[0];

    [Benchmark]
    public float OnnxRuntimeInt8() => _int8.PredictLogits(_pixels, Batch)[0];
}
