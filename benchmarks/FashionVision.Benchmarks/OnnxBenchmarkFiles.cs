using FashionVision.Data;
using FashionVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// The ONNX files the inference benchmarks time: a model exported as FP32 (with the training set's normalization and the
/// class names in its metadata) and its INT8 QDQ version calibrated on 256 training images, in a temporary folder.
/// </summary>
internal sealed class OnnxBenchmarkFiles : IDisposable
{
    public OnnxBenchmarkFiles(nn.Module<Tensor, Tensor> model, InMemoryDataset train)
    {
        var statistics = train.ComputeStatistics();
        Normalization = statistics;
        Folder = Path.Combine(Path.GetTempPath(), "fv-onnx-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Folder);
        Fp32 = Path.Combine(Folder, "fp32.onnx");
        Int8 = Path.Combine(Folder, "int8.onnx");
        OnnxExporter.Export(model, Fp32, new OnnxExportOptions
        {
            ClassNames = FashionMnistSource.Classes, Mean = statistics.Mean, Std = statistics.Std,
        });
        using var calibration = train.Images[..256].to(float32).div(255f);
        OnnxQuantizer.QuantizeStatic(Fp32, Int8, calibration);
    }

    public string Folder { get; }

    public string Fp32 { get; }

    public string Int8 { get; }

    public ChannelStatistics Normalization { get; }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
