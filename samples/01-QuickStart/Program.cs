// FashionVision quick start: the 60-second Fashion-MNIST recipe, step by step. Read it top to bottom like a notebook.
// Run: dotnet run -c Release --project samples/01-QuickStart
// It trains for as long as a 60-s budget allows (counted from process start, start-up and the final test evaluation
// included) and prints the test accuracy. Measured on two idle CPU cores: see docs/recipes.md ("Speedrun recipes").
using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;

var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
const long seed = 0;

// 1. Data. FashionMnistSource finds the files (Debian's dataset-fashion-mnist package, the cache, or a download) and
//    loads each split into one uint8 tensor.
var source = new FashionMnistSource();
using var train = source.Load(DatasetSplit.Train);
using var test = source.Load(DatasetSplit.Test);
Console.WriteLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images.");

// 2. The recipe: Recipes.Get("fashion-mnist-60s") bundles the model, the training options and the evaluation that were
//    measured together. Here we take it apart to show each piece.
var recipe = Recipes.Get("fashion-mnist-60s", seed);
Console.WriteLine($"Recipe {recipe.Name}: {recipe.Description}");

// 3. The model: FastCnn from the zoo (five 3×3 convolutions whose work happens at 14×14 and 7×7, where a CPU runs them
//    fastest). Its first convolution becomes a frozen bank of whitening filters computed from the training images'
//    3×3 patches: the network starts out with decorrelated inputs instead of spending its first epoch learning them.
using var model = recipe.CreateModel(train.ImageShape.Channels, train.NumClasses);
var normalization = train.ComputeStatistics();
ConvInitialization.WhitenFirstConvolution(model, train, normalization, sampleSize: 5000, freeze: true);

// 4. Training against the clock. The recipe's options train in bfloat16 (convolutions only; weights, optimizer state and
//    BatchNorm statistics stay float32) with AdamW and a OneCycle schedule that is laid over the 60-s budget rather than
//    over a number of epochs, so the run ends with the learning rate annealed exactly at the deadline. The budget starts
//    at process start and keeps back the time the test evaluation will need.
var options = recipe.Options with
{
    Normalization = normalization,
    TimeBudget = recipe.Options.TimeBudget! with { StartedAt = started, ReserveForImages = test.Count * recipe.TestTimeViews },
};
using var trainer = new Trainer(model, options);
trainer.EpochEnd += (_, e) => Console.WriteLine(
    $"epoch {e.Metrics.Epoch}: loss {e.Metrics.TrainLoss:0.0000}, train accuracy {e.Metrics.TrainAccuracy:P1}, lr {e.Metrics.LearningRate:0.######} ({e.Metrics.Elapsed.TotalSeconds:0.0}s)");
var history = trainer.Fit(train);
Console.WriteLine($"Trained {trainer.GlobalStep:N0} steps of {options.BatchSize} images in {history.TotalTime.TotalSeconds:0.0}s ({history.StopReason ?? "all epochs"}).");

// 5. Evaluate on the test set with the same normalisation and print the per-class report.
var result = Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = trainer.Normalization, Tta = recipe.Tta });
Console.WriteLine(result.ToReport());
var wall = DateTime.UtcNow - started;
Console.WriteLine($"Test accuracy: {result.Accuracy * 100:0.00}% after {history.TotalTime.TotalSeconds:0}s of training, {wall.TotalSeconds:0}s since the process started.");
