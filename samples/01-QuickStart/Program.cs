// FashionVision quick start: train a small CNN on Fashion-MNIST and print its test accuracy.
// Read it top to bottom like a notebook. Run: dotnet run -c Release --project samples/01-QuickStart
// Target: ≥ 85% test accuracy in about 2-3 minutes on 2 CPU cores (measurements: docs/recipes.md).
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

// 1. Data. FashionMnistSource finds the files (Debian's dataset-fashion-mnist package, the cache, or a download).
var source = new FashionMnistSource();
using var train = source.Load(DatasetSplit.Train);
using var test = source.Load(DatasetSplit.Test);
Console.WriteLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images.");

// 2. The small CNN of the literature from the model zoo: conv 32-32, pool, conv 64-64, pool, BatchNorm, global average
//    pooling, FC 128, dropout. The seed in its options makes its initial weights (and with them the run) reproducible.
const long seed = 42;
using var model = ModelZoo.Create("small-cnn", new ModelOptions { Seed = seed });

// 3. Train with the Trainer: two epochs of AdamW under a OneCycle schedule. The trainer normalises the inputs with the
//    training set's statistics, shuffles with the seed, and reports every epoch through an event.
using var trainer = new Trainer(model, new TrainerOptions
{
    ModelName = "small-cnn",
    Epochs = 2,
    BatchSize = 128,
    Seed = seed,
    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 3e-3, WeightDecay = 1e-4 },
    Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
});
trainer.EpochEnd += (_, e) => Console.WriteLine(
    $"epoch {e.Metrics.Epoch}/2: loss {e.Metrics.TrainLoss:0.0000}, train accuracy {e.Metrics.TrainAccuracy:P1} ({e.Metrics.Elapsed.TotalSeconds:0}s)");
var history = trainer.Fit(train);

// 4. Evaluate on the test set, with the same normalisation, and print the per-class report.
var result = Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = trainer.Normalization });
Console.WriteLine(result.ToReport());
Console.WriteLine($"Test accuracy: {result.Accuracy * 100:0.00}% after {history.Epochs.Count} epochs in {history.TotalTime.TotalSeconds:0}s");
