using System.CommandLine;
using System.Globalization;
using System.Text;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.IO;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.Visualization;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision inspect-labels</c>: trains k fold models, flags the training images whose labels the models doubt
/// (confident learning), and writes the ranked list, a grid of the most suspicious images and a summary. With
/// <c>--flip-rate</c> it first flips a known share of the labels and reports how many of them it found.
/// </summary>
internal static class InspectLabelsCommand
{
    private static readonly (string Name, LabelIssueFilter Filter)[] Filters =
    [
        ("prune-by-noise-rate", LabelIssueFilter.PruneByNoiseRate),
        ("confident-joint", LabelIssueFilter.ConfidentJoint),
        ("both", LabelIssueFilter.Both),
        ("predicted-not-given", LabelIssueFilter.PredictedNotGiven),
    ];

    public const string IssuesFile = "label-issues.csv";
    public const string GridFile = "label-issues.png";
    public const string SummaryFile = "label-issues.md";

    public static Command Create(CliContext context)
    {
        var dataset = CommonOptions.Dataset();
        var dataDir = CommonOptions.DataDirectory();
        var split = CommonOptions.Named("--split", "train", "The split to inspect", () => ["train", "test"], "split");
        var maxImages = CommonOptions.OptionalInt("--max-images", "Inspect only the first N images of the split");
        var model = CommonOptions.Named("--model", ModelZoo.FastCnnName, "The model trained on every fold", () => ModelZoo.Names, "model", "-m");
        var folds = CommonOptions.Int("--folds", 4, "Folds k: k models, each trained on k - 1 folds", minimum: 2);
        var epochs = CommonOptions.Int("--epochs", 2, "Epochs per fold model (the dataset's recipe, cut to this length)");
        var filter = CommonOptions.Named("--filter", "prune-by-noise-rate", "Which samples count as label issues", () => Filters.Select(f => f.Name).ToArray(), "filter");
        var flipRate = CommonOptions.Double("--flip-rate", 0, "Flip this share of the labels first and measure how many are found", 0, inclusive: true, maximum: 0.5);
        var top = CommonOptions.Int("--top", 36, "Images in the grid of the most suspicious ones");
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Folder for label-issues.csv, label-issues.png and label-issues.md",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", "labels-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture))),
        };
        var command = new Command("inspect-labels", "Find mislabelled images: k-fold out-of-fold predictions, confident learning, a ranked list and a grid.")
        {
            dataset, dataDir, split, maxImages, model, folds, epochs, filter, flipRate, top, seed, device, output,
        };
        command.SetAction(parse => Run(context, new Settings(
            parse.GetRequiredValue(dataset).ToLowerInvariant(),
            parse.GetValue(dataDir),
            parse.GetRequiredValue(split).ToLowerInvariant() == "test" ? DatasetSplit.Test : DatasetSplit.Train,
            parse.GetValue(maxImages),
            parse.GetRequiredValue(model).ToLowerInvariant(),
            parse.GetValue(folds),
            parse.GetValue(epochs),
            Filters.First(f => f.Name == parse.GetRequiredValue(filter).ToLowerInvariant()).Filter,
            parse.GetValue(flipRate),
            parse.GetValue(top),
            parse.GetValue(seed),
            parse.GetRequiredValue(device),
            parse.GetRequiredValue(output).FullName)));
        return command;
    }

    private sealed record Settings(string Dataset, DirectoryInfo? DataDirectory, DatasetSplit Split, int? MaxImages, string Model, int Folds, int Epochs,
        LabelIssueFilter Filter, double FlipRate, int Top, long Seed, string Device, string Output);

    private static int Run(CliContext context, Settings settings)
    {
        var device = CommonOptions.ResolveDevice(settings.Device);
        var source = DatasetCatalog.Create(settings.Dataset, CommonOptions.DatasetOptions(settings.DataDirectory));
        using var clean = RunData.Load(source, settings.Split, settings.MaxImages);
        using var planted = settings.FlipRate > 0 ? PlantedLabelNoise.Flip(clean, settings.FlipRate, settings.Seed) : null;
        var data = planted?.Dataset ?? clean;
        // The dataset's epoch-trained recipe: a time-budgeted speedrun recipe would cut every fold's training at its deadline,
        // so what the fold models learn (and what is flagged) would depend on the machine's load.
        var recipe = Recipes.All.FirstOrDefault(r => r.Dataset == settings.Dataset && r.Budget is null) ?? Recipes.FashionMnistFast();
        // Float32 keeps the fold models the same on every CPU (Auto would pick bfloat16 on some).
        var options = new LabelNoiseOptions
        {
            Folds = settings.Folds,
            Seed = settings.Seed,
            Model = settings.Model,
            Training = recipe.TrainerOptions() with { Epochs = settings.Epochs, Device = device, Precision = ComputePrecision.Float32 },
            Filter = settings.Filter,
            Progress = new FoldReporter(context),
        };
        context.Output.WriteLine($"{settings.Dataset}/{settings.Split.ToString().ToLowerInvariant()}: {data.Count:N0} images; {settings.Folds} folds of {settings.Model}, {settings.Epochs} epoch(s) each ({recipe.Name} recipe); device {device}"
            + (planted is null ? "" : $"; {planted.FlippedIndices.Count:N0} labels flipped on purpose ({settings.FlipRate:P1})"));

        Directory.CreateDirectory(settings.Output);
        using var predictions = LabelNoiseFinder.PredictOutOfFold(data, options, context.CancellationToken);
        var report = predictions.FindIssues(data, settings.Filter);
        // Every filter on the same predictions, and the plain loss ranking cut at the number of flips (precision = recall there).
        var scores = planted is null
            ? []
            : Filters.Select(f => (f.Name, Score: planted.Score(predictions.FindIssues(data, f.Filter).Issues.Select(i => i.Index))))
                .Append(($"loss ranking, top {planted.FlippedIndices.Count:N0}", planted.Score(report.RankByLoss(planted.FlippedIndices.Count))))
                .ToList();

        WriteIssues(Path.Combine(settings.Output, IssuesFile), report, planted);
        bool grid = LabelIssueGrid.SavePng(data.Images, report.Issues, data.ClassNames, Path.Combine(settings.Output, GridFile), settings.Top);
        AtomicFile.WriteAllText(Path.Combine(settings.Output, SummaryFile), Summary(settings, data, recipe, predictions, report, scores, grid));

        context.Output.WriteLine($"{report.Issues.Count:N0} label issues ({report.Issues.Count / (double)data.Count:P2} of the images); estimated noise rate {report.EstimatedNoiseRate:P2}; held-out agreement with the labels {predictions.FoldAccuracies.Average():P2}");
        foreach (var (name, score) in scores)
            context.Output.WriteLine($"  {name}: {score}");
        foreach (var issue in report.Issues.Take(10))
            context.Output.WriteLine($"  #{issue.Index}: given {data.ClassNames[issue.GivenLabel]}, looks like {data.ClassNames[issue.SuggestedLabel]} ({issue.SuggestedConfidence:P0}; p(given) {issue.SelfConfidence:0.000}{(issue.ModelsAgainst is { } a ? $"; {a}/{predictions.Models} models against" : "")})");
        context.Output.WriteLine($"output folder: {settings.Output}");
        foreach (var file in grid ? new[] { IssuesFile, GridFile, SummaryFile } : new[] { IssuesFile, SummaryFile })
            context.Output.WriteLine($"  {file}");
        return CliApp.Success;
    }

    private static void WriteIssues(string path, LabelNoiseReport report, PlantedLabelNoise? planted)
    {
        var ci = CultureInfo.InvariantCulture;
        var flipped = planted?.FlippedIndices.ToHashSet();
        var csv = new StringBuilder("rank,index,given,suggested,self_confidence,suggested_confidence,loss,models_against" + (flipped is null ? "" : ",planted") + "\n");
        foreach (var (issue, rank) in report.Issues.Select((issue, i) => (issue, i + 1)))
        {
            csv.Append(ci, $"{rank},{issue.Index},{Csv(report.ClassNames[issue.GivenLabel])},{Csv(report.ClassNames[issue.SuggestedLabel])},{issue.SelfConfidence:0.######},{issue.SuggestedConfidence:0.######},{issue.Loss:0.######},{issue.ModelsAgainst}");
            if (flipped is not null)
                csv.Append(flipped.Contains(issue.Index) ? ",yes" : ",no");
            csv.Append('\n');
        }
        AtomicFile.WriteAllText(path, csv.ToString());
    }

    private static string Csv(string value) => value.Contains(',') || value.Contains('"') ? $"\"{value.Replace("\"", "\"\"")}\"" : value;

    private static string Summary(Settings settings, InMemoryDataset data, Recipe recipe, OutOfFoldPredictions predictions, LabelNoiseReport report,
        IReadOnlyList<(string Name, LabelNoiseDetection Score)> scores, bool grid)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.Append(ci, $"# Label issues in {settings.Dataset}/{settings.Split.ToString().ToLowerInvariant()}\n\n");
        md.Append(ci, $"- images: {data.Count:N0}{(settings.MaxImages is { } max ? $" (the first {max:N0})" : "")}, seed {settings.Seed}\n");
        md.Append(ci, $"- {settings.Folds} stratified folds; each fold model: `{settings.Model}`, {settings.Epochs} epoch(s) of the `{recipe.Name}` recipe's training\n");
        md.Append(ci, $"- held-out agreement with the given labels per fold: {string.Join(", ", predictions.FoldAccuracies.Select(Percent))}\n");
        md.Append(ci, $"- filter `{Filters.First(f => f.Filter == settings.Filter).Name}`: **{report.Issues.Count:N0} issues**; estimated noise rate {Percent(report.EstimatedNoiseRate)}\n");
        md.Append(ci, $"- ranked list: [`{IssuesFile}`]({IssuesFile})\n\n");
        if (scores.Count > 0)
        {
            md.Append(ci, $"## Planted flips ({Percent(settings.FlipRate)} of the labels)\n\n| filter | flagged | found | precision | recall | F1 |\n| --- | ---: | ---: | ---: | ---: | ---: |\n");
            foreach (var (name, s) in scores)
                md.Append(ci, $"| {name} | {s.Flagged:N0} | {s.Found:N0} of {s.Planted:N0} | {Percent(s.Precision)} | {Percent(s.Recall)} | {s.F1:0.000} |\n");
            md.Append('\n');
        }
        md.Append("## Issues per given class\n\n| class | issues | most often suggested |\n| --- | ---: | --- |\n");
        var perClass = report.IssuesPerClass();
        for (int c = 0; c < data.NumClasses; c++)
        {
            var suggested = report.Issues.Where(i => i.GivenLabel == c).GroupBy(i => i.SuggestedLabel).OrderByDescending(g => g.Count()).FirstOrDefault();
            md.Append(ci, $"| {data.ClassNames[c]} | {perClass[c]:N0} | {(suggested is null ? "—" : $"{data.ClassNames[suggested.Key]} ({suggested.Count():N0})")} |\n");
        }
        if (grid)
            md.Append(ci, $"\n## The most suspicious images\n\n![label issues]({GridFile})\n");
        return md.ToString();
    }

    private static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>One line per finished fold epoch.</summary>
    private sealed class FoldReporter(CliContext context) : IProgress<LabelNoiseProgress>
    {
        public void Report(LabelNoiseProgress value)
        {
            if (value.Training is { EpochCompleted: true, Metrics: { } m })
                context.Output.WriteLine($"fold {value.Fold}/{value.Folds} epoch {m.Epoch}/{value.Training.TotalEpochs}: loss {m.TrainLoss:0.0000}, accuracy {m.TrainAccuracy:P2}, {m.Elapsed.TotalSeconds:0.0}s");
        }
    }
}
