// FashionVision quick start: the 60-second Fashion-MNIST recipe. Read it top to bottom like a notebook.
// Run: dotnet run -c Release --project samples/01-QuickStart
// It trains for as long as a 60-s budget allows (counted from process start, start-up and the final test evaluation
// included) and prints the test accuracy. Measured per CPU class: docs/recipes.md ("Speedruns").
using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Native;
using FashionVision.Training;

var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();

// 1. Data. FashionMnistSource finds the files (Debian's dataset-fashion-mnist package, the cache, or a download) and
//    loads each split into one uint8 tensor.
var source = new FashionMnistSource();
using var train = source.Load(DatasetSplit.Train);
using var test = source.Load(DatasetSplit.Test);
Console.WriteLine($"Fashion-MNIST: {train.Count:N0} training and {test.Count:N0} test images.");

// 2. The machine. The recipe adapts to the CPU it runs on: where the CPU computes bfloat16 natively (AVX512_BF16, AMX),
//    the convolutions run in bfloat16 at full width; elsewhere (AVX2-only CPUs, where bfloat16 is emulated and slow) in
//    float32 at half width. `fashionvision system` prints the whole report.
TorchRuntime.EnsureInitialized();
var machine = DeviceProfile.Current;
Console.WriteLine($"CPU: {machine.Cpu.ModelName}; oneDNN runs {DeviceProfile.IsaName(machine.EffectiveIsa)} kernels{(KernelGuard.Applied is { } guard ? $" ({guard})" : "")}.");

// 3. The recipe: Recipes.Get("fashion-mnist-60s") is a RunSpec, the whole run as data:
//    - the model: FastCnn from the zoo (five 3×3 convolutions whose work happens at 14×14 and 7×7, where a CPU runs
//      them fastest), its first convolution a frozen bank of whitening filters computed from the training images'
//      3×3 patches, so the network starts with decorrelated inputs instead of spending its first epoch learning them;
//    - the training: AdamW with a OneCycle schedule laid over the 60-s budget rather than over a number of epochs, so
//      the run ends with the learning rate annealed exactly at the deadline, however fast this machine is. The budget
//      starts at process start and keeps back the time the test evaluation will need (measured, not assumed);
//    - the precision: Auto (see step 2).
//    `fashionvision train --recipe fashion-mnist-60s --print-spec` prints the same spec as JSON.
var recipe = Recipes.Get("fashion-mnist-60s", seed: 0);
Console.WriteLine($"Recipe {recipe.Name}: {recipe.Description}");

// 4. Run it. TrainingRun is the one path every run takes (the CLI's train, recipes, ablations, the speedrun harness):
//    build and initialise the model, train against the clock, evaluate on the test set.
var progress = new EpochPrinter();
using var run = TrainingRun.Execute(recipe.Spec, train, test, new TrainingRunOptions { BudgetStartedAt = started, Progress = progress });
Console.WriteLine($"Trained {run.ImagesTrained:N0} images in {run.TrainingTime.TotalSeconds:0.0}s in {run.Precision} ({run.History.StopReason ?? "all epochs"}).");

// 5. The per-class report of the test evaluation.
Console.WriteLine(run.Evaluation.ToReport());
var wall = DateTime.UtcNow - started;
Console.WriteLine($"Test accuracy: {run.Evaluation.Accuracy * 100:0.00}% after {run.TrainingTime.TotalSeconds:0}s of training, {wall.TotalSeconds:0}s since the process started.");

/// <summary>Prints one line per epoch, on the training thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
internal sealed class EpochPrinter : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress p)
    {
        if (p.EpochCompleted && p.Metrics is { } m)
            Console.WriteLine($"epoch {m.Epoch}: loss {m.TrainLoss:0.0000}, train accuracy {m.TrainAccuracy:P1}, lr {m.LearningRate:0.######} ({m.Elapsed.TotalSeconds:0.0}s)");
    }
}
