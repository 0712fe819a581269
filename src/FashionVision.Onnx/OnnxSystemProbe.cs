using System.Diagnostics;
using FashionVision.Models;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>What <see cref="OnnxSystemProbe.Run"/> measured: ONNX Runtime at batch 1 on fast-cnn, float32 against INT8.</summary>
/// <param name="Float32ImagesPerSecond">Images per second of the float32 model, one image per call.</param>
/// <param name="Int8ImagesPerSecond">Images per second of its INT8 (QDQ) model, one image per call.</param>
/// <param name="Int8Target">The INT8 target <see cref="Onnx.Int8Target.Auto"/> chose on this machine, and why.</param>
/// <param name="Seconds">Wall time of the probe (export, quantization and warm-up included).</param>
public sealed record OnnxProbeResult(double Float32ImagesPerSecond, double Int8ImagesPerSecond, Int8TargetChoice Int8Target, double Seconds)
{
    /// <summary>How many times faster INT8 ran than float32 (below 1: slower).</summary>
    public double Int8Speedup => Float32ImagesPerSecond > 0 ? Int8ImagesPerSecond / Float32ImagesPerSecond : double.NaN;
}

/// <summary>
/// The ONNX part of the system report (<c>fashionvision system</c>): exports an untrained fast-cnn, quantizes it to INT8
/// for this machine (<see cref="Int8Target.Auto"/>), and times ONNX Runtime on one image at a time in both forms. Figures
/// taken while other processes load the machine are lower than the machine's.
/// </summary>
public static class OnnxSystemProbe
{
    /// <summary>Runs the probe; each of the two timings lasts about half of <paramref name="budget"/> (default 0.4 s) after a warm-up call.</summary>
    public static OnnxProbeResult Run(TimeSpan? budget = null)
    {
        var total = Stopwatch.StartNew();
        var each = (budget ?? TimeSpan.FromSeconds(0.4)) / 2;
        var directory = Directory.CreateTempSubdirectory("fashionvision-probe-");
        try
        {
            string fp32 = Path.Combine(directory.FullName, "fast-cnn.onnx"), int8 = Path.Combine(directory.FullName, "fast-cnn.int8.onnx");
            using (var model = ModelZoo.Create("fast-cnn", new ModelOptions { Seed = 0 }))
                OnnxExporter.Export(model, fp32, new OnnxExportOptions { ClassNames = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray() });
            using (var scope = NewDisposeScope())
            {
                var calibration = rand([8, 1, 28, 28], generator: new Generator(0));
                var report = OnnxQuantizer.QuantizeStatic(fp32, int8, calibration, new OnnxQuantizationOptions { CalibrationBatchSize = 8 });
                var image = new float[28 * 28];
                for (int i = 0; i < image.Length; i++)
                    image[i] = (i % 29) / 28f;
                double fp32Rate = ImagesPerSecond(fp32, image, each), int8Rate = ImagesPerSecond(int8, image, each);
                return new OnnxProbeResult(fp32Rate, int8Rate, report.Target!, total.Elapsed.TotalSeconds);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static double ImagesPerSecond(string path, float[] image, TimeSpan duration)
    {
        using var predictor = OnnxPredictor.Load(path);
        predictor.PredictLogits(image, 1);
        var clock = Stopwatch.StartNew();
        int images = 0;
        do
        {
            predictor.PredictLogits(image, 1);
            images++;
        }
        while (clock.Elapsed < duration);
        return images / clock.Elapsed.TotalSeconds;
    }
}
