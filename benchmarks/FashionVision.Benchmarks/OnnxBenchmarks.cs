using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// Inference latency of one zoo model three ways: TorchSharp eager (eval mode, no_grad), ONNX Runtime FP32 and ONNX Runtime
/// INT8 (QDQ, calibrated on 256 training images), at batch 1 and 64, on real Fashion-MNIST test images. Every path starts
/// from [0, 1] pixels and normalizes them (the predictors do it inside).
/// Run: dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*OnnxBenchmarks*' --job short
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
public class OnnxBenchmarks
{
    private OnnxBenchmarkFiles _files = null!;
    private ImageClassifier _model = null!;
    private OnnxPredictor _fp32 = null!;
    private OnnxPredictor _int8 = null!;
    private float[] _pixels = [];
    private Tensor _pixelTensor = null!;
    private float _mean;
    private float _std;

    /// <summary>The zoo model.</summary>
    [Params("small-cnn", "resnet18")]
    public string Model { get; set; } = "small-cnn";

    /// <summary>Images per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var source = new FashionMnistSource();
        using var train = source.Load(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);
        _model = ModelZoo.Create(Model, new ModelOptions { Seed = 0 });
        _model.eval();
        _files = new OnnxBenchmarkFiles(_model, train);
        (_mean, _std) = (_files.Normalization.Mean[0], _files.Normalization.Std[0]);
        _fp32 = OnnxPredictor.Load(_files.Fp32);
        _int8 = OnnxPredictor.Load(_files.Int8);

        _pixelTensor = test.Images[..Batch].to(float32).div(255f).contiguous();
        _pixels = _pixelTensor.data<float>().ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fp32.Dispose();
        _int8.Dispose();
        _model.Dispose();
        _pixelTensor.Dispose();
        _files.Dispose();
    }

    [Benchmark(Baseline = true)]
    public float TorchSharpEager()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var logits = _model.call((_pixelTensor - _mean) / _std);
        return logits[0, 0].item<float>();
    }

    [Benchmark]
    public float OnnxRuntimeFp32() => _fp32.PredictLogits(_pixels, Batch)[0];

    [Benchmark]
    public float OnnxRuntimeInt8() => _int8.PredictLogits(_pixels, Batch)[0];
}
