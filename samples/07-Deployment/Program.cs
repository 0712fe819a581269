// 07 · Deployment: export a trained model to ONNX, check it against TorchSharp, quantize it to INT8, and compare.
//
// Run:   dotnet run -c Release --project samples/07-Deployment [-- --quick] [--output folder]
// Measured on the 2-core reference machine (2026-11-23, `--quick`: 6,000 training images, 1 epoch, 2,000 test images,
// while other builds shared the cores): 221 s of wall time; eager 55.30%, ONNX FP32 55.30% (largest logit difference
// 1.9e-6), INT8 55.00% (-0.30 points), 294 KiB → 88 KiB (3.4× smaller); batch-1 latency 3.7 ms FP32, 3.4 ms INT8 (a
// stopwatch on a loaded machine; docs/benchmarks.md has the BenchmarkDotNet figures). The full run (60,000 training
// images, 3 epochs, all 10,000 test images; idle machine, about 5.5 min in all): eager 89.70%, ONNX FP32 89.70% (largest
// logit difference 7.6e-6), INT8 89.73% (+0.03 points), 294 KiB → 85 KiB (3.5× smaller); batch 1: 243 µs FP32, 161 µs INT8.
//
// Read it top to bottom like a notebook. TorchSharp cannot export ONNX; FashionVision.Onnx writes the graph itself
// (opset 17, BatchNorm folded into the convolutions, dynamic batch, class names and mean/std in the metadata), and
// ONNX Runtime runs it anywhere .NET runs, without libtorch. INT8 static quantization (QDQ format) then stores weights
// in 8 bits and calibrates activation ranges on real training images.
using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Onnx;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

bool quick = args.Contains("--quick");
int outputAt = Array.IndexOf(args, "--output");
string output = Path.GetFullPath(outputAt >= 0 && outputAt + 1 < args.Length ? args[outputAt + 1] : "deployment-output");
Directory.CreateDirectory(output);

// ## 1. Train a small model
var source = new FashionMnistSource();
using var fullTrain = source.Load(DatasetSplit.Train);
using var fullTest = source.Load(DatasetSplit.Test);
using var train = fullTrain.Take(quick ? 6_000 : 60_000);
using var test = fullTest.Take(quick ? 2_000 : 10_000);
using var model = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 1 });
using var trainer = new Trainer(model, new TrainerOptions
{
    Epochs = quick ? 1 : 3,
    Seed = 1,
    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 3e-3, WeightDecay = 1e-4 },
    Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
});
trainer.Fit(train);
var stats = trainer.Normalization!;
var eager = Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = stats });
Console.WriteLine($"TorchSharp (eager): {eager.Accuracy:P2} on {test.Count:N0} test images");

// ## 2. Export
string fp32 = Path.Combine(output, "small-cnn.onnx");
OnnxExporter.Export(model, fp32, new OnnxExportOptions { ClassNames = test.ClassNames, Mean = stats.Mean, Std = stats.Std });
Console.WriteLine($"ONNX FP32: {fp32} ({new FileInfo(fp32).Length / 1024.0:N0} KiB)");

// ## 3. Does ONNX Runtime agree with TorchSharp?
// The predictor applies the mean/std stored in the file, so both sides get raw [0, 1] pixels.
using var pixels = test.Images.to_type(ScalarType.Float32).div(255);
float[] raw = pixels.data<float>().ToArray();
int count = (int)test.Count;
using var onnx = OnnxPredictor.Load(fp32);
float[] onnxLogits = onnx.PredictLogits(raw, count);
model.eval();
float[] torchLogits;
using (no_grad())
using (var normalized = (pixels - tensor(stats.Mean).view(1, -1, 1, 1)) / tensor(stats.Std).view(1, -1, 1, 1))
using (var logits = model.call(normalized))
    torchLogits = logits.data<float>().ToArray();
double maxDifference = onnxLogits.Zip(torchLogits, (a, b) => Math.Abs(a - b)).Max();
Console.WriteLine($"Largest logit difference, ONNX Runtime vs TorchSharp, over {count:N0} images: {maxDifference:E2}");

// ## 4. INT8
// Calibrate on 512 training images (never the test set), then compare accuracy and size.
string int8 = Path.Combine(output, "small-cnn.int8.onnx");
using var calibration = train.Images[..512].to_type(ScalarType.Float32).div(255);
var report = OnnxQuantizer.QuantizeStatic(fp32, int8, calibration);
using var quantized = OnnxPredictor.Load(int8);
double fp32Accuracy = Accuracy(onnx), int8Accuracy = Accuracy(quantized);
Console.WriteLine($"INT8: {int8} ({report.QuantizedBytes / 1024.0:N0} KiB, {report.CompressionRatio:0.0}× smaller)");
Console.WriteLine($"Accuracy FP32 {fp32Accuracy:P2}, INT8 {int8Accuracy:P2} ({100 * (int8Accuracy - fp32Accuracy):+0.00;-0.00} points)");

// ## 5. Latency at batch 1
// A stopwatch over a few hundred single-image calls; benchmarks/ has the careful BenchmarkDotNet figures.
int calls = quick ? 100 : 500;
foreach (var (name, predictor) in new[] { ("ONNX FP32", onnx), ("ONNX INT8", quantized) })
{
    predictor.Predict(raw.AsSpan(0, 784), 1);
    var timer = Stopwatch.StartNew();
    for (int i = 0; i < calls; i++)
        predictor.Predict(raw.AsSpan(i % count * 784, 784), 1);
    Console.WriteLine($"{name}: {timer.Elapsed.TotalMilliseconds * 1000 / calls:0} µs per image at batch 1");
}

double Accuracy(OnnxPredictor predictor)
{
    var predictions = predictor.Predict(raw, count, topK: 1);
    long[] labels = test.Labels.data<long>().ToArray();
    return predictions.Select((p, i) => p.ClassIndex == labels[i] ? 1.0 : 0.0).Average();
}
