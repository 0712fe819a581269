using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FashionVision.Data;
using FashionVision.IO;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks.Speedrun;

/// <summary>
/// The speedrun harness: runs each time-budgeted recipe for several seeds, each in a process of its own timed from start
/// to printed accuracy, times the reference workloads in the same session, and prints one table.
/// </summary>
/// <remarks>
/// <code>
/// dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- speedrun [--seeds 3] [--recipes a,b] [--output FILE] [--no-reference]
/// </code>
/// Run it on an idle machine: nothing else heavy may run while it times.
/// </remarks>
internal static class SpeedrunHarness
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        int seeds = int.Parse(SpeedrunChild.Argument(args, "--seeds") ?? "3", Inv);
        int overheadRounds = int.Parse(SpeedrunChild.Argument(args, "--overhead-rounds") ?? "10", Inv);
        var names = SpeedrunChild.Argument(args, "--recipes")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    ?? Recipes.All.Where(r => r.Budget is not null).Select(r => r.Name).ToArray();
        string? output = SpeedrunChild.Argument(args, "--output");
        bool reference = !args.Contains("--no-reference");

        var md = new StringBuilder();
        md.AppendLine(Inv, $"### Speedrun {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine(Inv, $"`dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- speedrun {string.Join(' ', args)}`; {Environment.ProcessorCount} cores, {torch.get_num_threads()} intra-op threads, load average before: {LoadAverage()}.");
        md.AppendLine();
        Console.WriteLine(md.ToString());

        double fp32Peak = double.NaN;
        if (reference)
        {
            var reference32 = ReferenceWorkloads.MatmulGflops(ScalarType.Float32);
            var reference16 = ReferenceWorkloads.MatmulGflops(ScalarType.BFloat16);
            var (peak32, shape32) = ReferenceWorkloads.ConvolutionPeak(ScalarType.Float32);
            var (peak16, shape16) = ReferenceWorkloads.ConvolutionPeak(ScalarType.BFloat16);
            fp32Peak = peak32;
            var source = new FashionMnistSource();
            using var train = source.Load(DatasetSplit.Train);
            using var test = source.Load(DatasetSplit.Test);
            var (handSeconds, handAccuracy) = ReferenceWorkloads.HandWrittenEpoch(train, test);
            var (ratio, error) = ReferenceWorkloads.TrainerOverhead(train, overheadRounds);
            var lines = new[]
            {
                "| reference workload | result |",
                "| --- | ---: |",
                $"| matmul 1024³ float32 | {reference32:0} GFLOP/s |",
                $"| matmul 1024³ bfloat16 | {reference16:0} GFLOP/s |",
                $"| 3×3 convolution peak, forward+backward, float32 ({shape32}, batch 256) | {peak32:0} GFLOP/s |",
                $"| 3×3 convolution peak, forward+backward, bfloat16 ({shape16}, batch 256) | {peak16:0} GFLOP/s |",
                $"| hand-written TorchSharp epoch (2 convs, Adam, batch 64), Fashion-MNIST | {handSeconds:0.0} s, test accuracy {handAccuracy * 100:0.00}% |",
                $"| Trainer epoch ÷ hand-written loop epoch (FastCnn, 60 batches of 128, {overheadRounds} alternations) | {ratio:0.000} ± {error:0.000} |",
            };
            foreach (var line in lines)
            {
                md.AppendLine(line);
                Console.WriteLine(line);
            }
            md.AppendLine();
        }

        var reports = new List<(SpeedrunReport Report, double Wall)>();
        foreach (var name in names)
        {
            for (int seed = 0; seed < seeds; seed++)
            {
                var (report, wall) = RunChild(name, seed);
                reports.Add((report, wall));
                Console.WriteLine(string.Create(Inv, $"{name} seed {seed}: {report.Accuracy * 100:0.00}% printed {report.PrintedAtSeconds:0.0} s after the start, {wall:0.0} s to exit ({report.TrainSeconds:0.0} s training, {report.CpuSeconds:0} s CPU, {report.ImagesPerSecond:0} images/s)"));
            }
        }

        md.AppendLine("| recipe | budget | target | accuracy mean (min–max) | start to printed accuracy, mean (max) | start to exit, mean (max) | CPU s | images/s | training GFLOP/s | % of fp32 conv peak | met |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var group in reports.GroupBy(r => r.Report.Recipe))
        {
            var recipe = Recipes.Get(group.Key);
            var acc = group.Select(r => r.Report.Accuracy * 100).ToArray();
            var walls = group.Select(r => r.Wall).ToArray();
            var printed = group.Select(r => r.Report.PrintedAtSeconds).ToArray();
            double budget = recipe.Budget?.TotalSeconds ?? double.NaN;
            double gflops = group.Average(r => r.Report.TrainingGflops);
            bool met = acc.Average() >= recipe.TargetAccuracy * 100 && (double.IsNaN(budget) || printed.Max() <= budget);
            md.AppendLine(string.Create(Inv,
                $"| {group.Key} | {budget:0} s | {recipe.TargetAccuracy * 100:0.0}% | {acc.Average():0.00}% ({acc.Min():0.00}–{acc.Max():0.00}) | {printed.Average():0.0} s ({printed.Max():0.0}) | {walls.Average():0.0} s ({walls.Max():0.0}) | {group.Average(r => r.Report.CpuSeconds):0} | {group.Average(r => r.Report.ImagesPerSecond):0} | {gflops:0} | {(double.IsNaN(fp32Peak) ? "—" : (gflops / fp32Peak * 100).ToString("0", Inv) + "%")} | {(met ? "yes" : "no")} |"));
        }
        md.AppendLine();
        md.AppendLine(Inv, $"Load average after: {LoadAverage()}. Seeds 0–{seeds - 1}; \"start to printed accuracy\" is the target's measure, taken by the run itself from its process's start time; \"start to exit\" is the parent's stopwatch around the whole process; images/s and GFLOP/s over the training time (3 × forward FLOPs per image).");
        Console.WriteLine();
        Console.WriteLine(md.ToString());
        if (output is not null)
            AtomicFile.WriteAllText(output, md.ToString());
        return 0;
    }

    private static (SpeedrunReport Report, double Wall) RunChild(string recipe, int seed)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(SpeedrunHarness).Assembly.Location);
        foreach (var a in new[] { "speedrun-child", "--recipe", recipe, "--seed", seed.ToString(Inv) })
            start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {host}.");
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        double wall = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"The run of {recipe} (seed {seed}) failed with exit code {process.ExitCode}.");
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(SpeedrunChild.Marker, StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"The run of {recipe} (seed {seed}) printed no result.");
        var report = JsonSerializer.Deserialize<SpeedrunReport>(line[SpeedrunChild.Marker.Length..])
                     ?? throw new InvalidOperationException("Unreadable speedrun report.");
        return (report, wall);
    }

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
