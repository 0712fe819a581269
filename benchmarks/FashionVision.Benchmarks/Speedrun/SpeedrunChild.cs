using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;
using TorchSharp;

namespace FashionVision.Benchmarks.Speedrun;

/// <summary>One measured run of one recipe and seed, in a process of its own: data → recipe → printed accuracy.</summary>
/// <remarks>It prints one line, <c>SPEEDRUN {json}</c>, that the harness reads; everything else goes to stderr.</remarks>
internal static class SpeedrunChild
{
    public const string Marker = "SPEEDRUN ";

    public static int Run(string[] args)
    {
        string recipeName = Argument(args, "--recipe") ?? throw new ArgumentException("speedrun-child needs --recipe NAME");
        long seed = long.Parse(Argument(args, "--seed") ?? "0", CultureInfo.InvariantCulture);
        var recipe = Recipes.Get(recipeName, seed);
        IDatasetSource source = DatasetCatalog.Create(recipe.Dataset);
        using var train = source.Load(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);

        using var result = TrainingRun.Execute(recipe.Spec, train, test);
        var model = result.Model;
        var (c, h, w) = train.ImageShape;
        long forwardFlops = FlopCounter.CountFlops(model, c, h, w);
        var process = Process.GetCurrentProcess();
        // The moment the accuracy is printed, counted from the process's start (the budget's own anchor).
        double printedAt = (DateTime.Now - process.StartTime).TotalSeconds;
        var report = new SpeedrunReport(
            recipe.Name, seed, result.Evaluation.Accuracy, result.TrainingTime.TotalSeconds, result.EvaluationTime.TotalSeconds,
            process.TotalProcessorTime.TotalSeconds, result.ImagesTrained, result.History.Epochs.Count, forwardFlops, result.Precision.ToString(),
            torch.get_num_threads(), printedAt);
        Console.WriteLine(Marker + JsonSerializer.Serialize(report));
        Console.Error.WriteLine($"{recipe.Name} seed {seed}: test accuracy {result.Evaluation.Accuracy:P2}, trained {result.TrainingTime.TotalSeconds:0.0} s");
        return 0;
    }

    internal static string? Argument(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>What one child run reports; <see cref="PrintedAtSeconds"/> is the time from the process's start to the printed accuracy.</summary>
internal sealed record SpeedrunReport(
    string Recipe, long Seed, double Accuracy, double TrainSeconds, double EvaluationSeconds, double CpuSeconds,
    long ImagesTrained, int Epochs, long ForwardFlopsPerImage, string Precision, int Threads, double PrintedAtSeconds)
{
    /// <summary>Training arithmetic rate: three forward passes' worth of FLOPs (forward, input and weight gradients) per image.</summary>
    public double TrainingGflops => 3.0 * ForwardFlopsPerImage * ImagesTrained / TrainSeconds / 1e9;

    public double ImagesPerSecond => ImagesTrained / TrainSeconds;
}
