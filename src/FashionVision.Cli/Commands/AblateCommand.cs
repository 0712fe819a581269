using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.IO;
using FashionVision.Training;
using FashionVision.Visualization;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision ablate PLAN.json</c>: trains the plan's baseline and each cumulative step with every seed, and writes
/// the table (ablation.md), the bar chart (ablation.png) and every run (ablation.json).
/// </summary>
internal static class AblateCommand
{
    public const string TableFile = "ablation.md";
    public const string ChartFile = "ablation.png";
    public const string RunsFile = "ablation.json";

    private static readonly JsonSerializerOptions IndentedJson = new(AblationPlan.Json) { WriteIndented = true };

    public static Command Create(CliContext context)
    {
        var plan = new Argument<FileInfo>("plan") { Description = "A JSON plan: base settings, ordered steps (JSON merge patches), seeds (docs/recipes.md)" };
        var dataDir = CommonOptions.DataDirectory();
        var maxTrain = CommonOptions.OptionalInt("--max-train-images", "Use only the first N training images (overrides the plan's trainImages)");
        var maxTest = CommonOptions.OptionalInt("--max-test-images", "Evaluate on only the first N test images (overrides the plan's testImages)");
        var device = CommonOptions.Device();
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Folder for ablation.md, ablation.png and ablation.json",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "ablation-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
        };
        var command = new Command("ablate", "Run an ablation: a baseline and cumulative changes, each trained with fixed seeds; a table and a bar chart.")
        {
            plan, dataDir, maxTrain, maxTest, device, output,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetRequiredValue(plan);
            AblationPlan loaded;
            try
            {
                loaded = AblationPlan.Load(file.FullName);
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
            {
                throw new CliException(e.Message, CliApp.UsageError, e);
            }
            if (!DatasetCatalog.Names.Contains(loaded.Dataset, StringComparer.OrdinalIgnoreCase))
                throw new CliException($"{file.FullName}: unknown dataset '{loaded.Dataset}'. Valid names: {string.Join(", ", DatasetCatalog.Names)}.");
            return Run(context, loaded, file.FullName, parse.GetValue(dataDir), parse.GetValue(maxTrain) ?? loaded.TrainImages,
                parse.GetValue(maxTest) ?? loaded.TestImages, parse.GetRequiredValue(device), parse.GetRequiredValue(output).FullName);
        });
        return command;
    }

    private static int Run(CliContext context, AblationPlan plan, string planPath, DirectoryInfo? dataDir, int? maxTrain, int? maxTest, string deviceName, string folder)
    {
        var device = CommonOptions.ResolveDevice(deviceName);
        var source = DatasetCatalog.Create(plan.Dataset.ToLowerInvariant(), CommonOptions.DatasetOptions(dataDir));
        using var train = RunData.Load(source, DatasetSplit.Train, maxTrain);
        using var test = RunData.Load(source, DatasetSplit.Test, maxTest);
        int rows = plan.Steps.Count + 1;
        context.Output.WriteLine($"{plan.Name}: {rows} rows × {plan.Seeds.Count} seed(s) on {plan.Dataset} ({train.Count:N0} training, {test.Count:N0} test images); device {device}");
        Directory.CreateDirectory(folder);

        var result = AblationRunner.Run(plan, train, test, new AblationRunOptions { Device = device, Progress = new RunReporter(context) }, context.CancellationToken);

        var table = result.ToMarkdown();
        AtomicFile.WriteAllText(Path.Combine(folder, TableFile), Report(plan, planPath, result, train.Count, test.Count, table));
        AblationChart.SavePng(result, Path.Combine(folder, ChartFile));
        AtomicFile.WriteAllText(Path.Combine(folder, RunsFile), JsonSerializer.Serialize(new
        {
            format = "fashionvision-ablation",
            version = 1,
            createdUtc = DateTime.UtcNow,
            plan = planPath,
            dataset = new { name = plan.Dataset, trainImages = train.Count, testImages = test.Count },
            seeds = result.Seeds,
            rows = result.Rows.Select(r => new
            {
                step = r.Step,
                name = r.Name,
                change = r.Change,
                meanAccuracy = r.MeanAccuracy,
                accuracySpread = r.AccuracySpread,
                deltaFromPrevious = r.DeltaFromPrevious,
                deltaFromBaseline = r.DeltaFromBaseline,
                runs = r.Runs.Select(run => new { seed = run.Seed, accuracy = run.Accuracy, macroF1 = run.MacroF1, trainingSeconds = run.TrainingTime.TotalSeconds }),
                settings = r.Settings,
            }),
        }, IndentedJson));

        context.Output.WriteLine();
        context.Output.Write(table);
        context.Output.WriteLine($"output folder: {folder}");
        foreach (var file in new[] { TableFile, ChartFile, RunsFile })
            context.Output.WriteLine($"  {file}");
        return CliApp.Success;
    }

    private static string Report(AblationPlan plan, string planPath, AblationResult result, long trainImages, long testImages, string table)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(ci, $"# {plan.Name}\n\n");
        md.Append(ci, $"Plan `{Path.GetFileName(planPath)}`: {plan.Dataset}, {trainImages:N0} training and {testImages:N0} test images, seeds {string.Join(", ", result.Seeds)}. ");
        md.Append("Each row trains a fresh model with all the changes above it; accuracy is the mean over the seeds (± sample standard deviation), ");
        md.Append("deltas are in percentage points, time is the mean training wall time per run on the machine it ran on.\n\n");
        md.Append(table);
        md.Append(ci, $"\n![ablation]({ChartFile})\n\n## Baseline settings\n\n```json\n{JsonSerializer.Serialize(plan.Base, IndentedJson)}\n```\n");
        return md.ToString();
    }

    /// <summary>One line per finished run.</summary>
    private sealed class RunReporter(CliContext context) : IProgress<AblationProgress>
    {
        public void Report(AblationProgress value)
        {
            if (value.Completed is { } run)
                context.Output.WriteLine($"step {value.Step}/{value.Steps - 1} {value.Name}, seed {run.Seed}: test accuracy {run.Accuracy:P2}, {run.TrainingTime.TotalSeconds:0.0}s of training");
        }
    }
}
