using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;

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
    // small-cnn: the whole training set, 3 epochs (as samples/07-Deployment). resnet18: 911.6 MFLOP per image forward, about
    // 50 training images/s on two idle cores, so it trains one epoch on a 15,000-image stratified subset (about 5 minutes).
    [TestCase("small-cnn", 60000, 3, 128)]
    [TestCase("resnet18", 15000, 1, 64)]
    public void Int8AccuracyDropOnTheFullTestSet(string name, int trainImages, int epochs, int batchSize)
    {
        set_num_threads(Environment.ProcessorCount);
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        var source = new FashionMnistSource();
        using var fullTrain = source.Load(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);
        var (subset, rest) = trainImages < fullTrain.Count
            ? fullTrain.SplitStratified(1.0 - (double)trainImages / fullTrain.Count, seed: 7)
            : (null, null);
        using var subsetOwner = subset;
        using var restOwner = rest;
        var train = subset ?? fullTrain;

        var started = DateTime.UtcNow;
        using var model = ModelZoo.Create(name, new ModelOptions { Seed = 7 });
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = epochs,
            BatchSize = batchSize,
            Seed = 7,
            Optimizer = new FashionVision.Training.OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 2e-3, WeightDecay = 0.05 },
            Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch, PctStart = 0.25 },
        });
        trainer.Fit(train);
        model.eval();
        var trainingTime = DateTime.UtcNow - started;
        var (mean, std) = (trainer.Normalization!.Mean[0], trainer.Normalization.Std[0]);

        var fp32Path = dir.File("fp32.onnx");
        OnnxExporter.Export(model, fp32Path, new OnnxExportOptions { ClassNames = source.ClassNames, Mean = [mean], Std = [std] });
        var pixels = (test.Images.to(float32) / 255f).contiguous().data<float>().ToArray();
        var labels = test.Labels.data<long>().ToArray();
        var fp32Accuracy = Accuracy(fp32Path, pixels, labels);
        var calibration = train.Images[..512].to(float32) / 255f;

        TestContext.Progress.WriteLine(
            $"{name}: trained {epochs} epoch(s) on {train.Count} images (batch {batchSize}) in {trainingTime.TotalMinutes:F1} min; FP32 test accuracy {fp32Accuracy:P2} ({new FileInfo(fp32Path).Length / 1024.0:F0} KiB)");
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
