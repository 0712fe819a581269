using FashionVision.Data;
using FashionVision.Models;

namespace FashionVision.Onnx.Tests;

/// <summary>
/// The full-size INT8 accuracy measurement behind docs/benchmarks.md: trains a zoo model on Fashion-MNIST, exports it,
/// quantizes it with min/max and percentile calibration, and compares FP32 and INT8 accuracy on the whole 10,000-image test
/// set. Too slow for the suite, so it runs only when asked for:
/// dotnet test tests/FashionVision.Onnx.Tests --filter "TestCategory=Measurement"
/// </summary>
[Explicit("Minutes of training; run with --filter \"TestCategory=Measurement\".")]
[Category("Measurement")]
public class QuantizationAccuracyMeasurement
{
    [TestCase("small-cnn", 900, 64)]
    [TestCase("resnet18", 200, 32)]
    public void Int8AccuracyDropOnTheFullTestSet(string name, int steps, int batchSize)
    {
        set_num_threads(Environment.ProcessorCount);
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var source = new FashionMnistSource();
        using var train = source.Load(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);
        var statistics = train.ComputeStatistics();
        var (mean, std) = (statistics.Mean[0], statistics.Std[0]);

        var started = DateTime.UtcNow;
        using var model = ModelZoo.Create(name, new ModelOptions { Seed = 7 });
        var inputs = (train.Images.to(float32) / 255f - mean) / std;
        var optimizer = optim.AdamW(model.parameters(), 2e-3, weight_decay: 1e-4);
        var generator = new Generator(7);
        model.train();
        for (var step = 0; step < steps; step++)
        {
            using var stepScope = NewDisposeScope();
            var index = randint(0, inputs.shape[0], [batchSize], generator: generator);
            var loss = nn.functional.cross_entropy(model.call(inputs.index_select(0, index)), train.Labels.index_select(0, index));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        model.eval();
        var trainingTime = DateTime.UtcNow - started;

        var fp32Path = dir.File("fp32.onnx");
        OnnxExporter.Export(model, fp32Path, new OnnxExportOptions { ClassNames = source.ClassNames, Mean = [mean], Std = [std] });
        var pixels = (test.Images.to(float32) / 255f).contiguous().data<float>().ToArray();
        var labels = test.Labels.data<long>().ToArray();
        var fp32Accuracy = Accuracy(fp32Path, pixels, labels);
        var calibration = train.Images[..512].to(float32) / 255f;

        TestContext.Progress.WriteLine(
            $"{name}: trained {steps} steps × {batchSize} in {trainingTime.TotalMinutes:F1} min; FP32 test accuracy {fp32Accuracy:P2} ({new FileInfo(fp32Path).Length / 1024.0:F0} KiB)");
        foreach (var method in new[] { CalibrationMethod.MinMax, CalibrationMethod.Percentile })
        {
            var int8Path = dir.File($"int8-{method}.onnx");
            var report = OnnxQuantizer.QuantizeStatic(fp32Path, int8Path, calibration, new OnnxQuantizationOptions { Method = method });
            var int8Accuracy = Accuracy(int8Path, pixels, labels);
            TestContext.Progress.WriteLine(
                $"{name}: INT8 {method} (512 calibration images): accuracy {int8Accuracy:P2}, drop {(fp32Accuracy - int8Accuracy) * 100:F2} pp, " +
                $"{report.QuantizedBytes / 1024.0:F0} KiB ({report.CompressionRatio:F2}× smaller)");
            Assert.That((fp32Accuracy - int8Accuracy) * 100, Is.LessThanOrEqualTo(0.5), method.ToString());
        }
    }

    private static double Accuracy(string path, float[] pixels, long[] labels)
    {
        using var predictor = OnnxPredictor.Load(path);
        const int chunk = 500;
        var logits = new float[labels.Length * 10];
        for (var start = 0; start < labels.Length; start += chunk)
        {
            var count = Math.Min(chunk, labels.Length - start);
            predictor.PredictLogits(pixels.AsSpan(start * 784, count * 784), count).CopyTo(logits, start * 10);
        }
        var correct = 0;
        for (var n = 0; n < labels.Length; n++)
        {
            var row = logits.AsSpan(n * 10, 10);
            var best = 0;
            for (var k = 1; k < 10; k++) if (row[k] > row[best]) best = k;
            if (best == labels[n]) correct++;
        }
        return (double)correct / labels.Length;
    }
}
