using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using TorchSharp;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision evaluate</c>: a checkpoint's (or an ensemble's) accuracy, per-class report, most confused pairs and, for
/// Fashion-MNIST, the confusion among the upper-body garments, on a test split, optionally with test-time augmentation.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A checkpoint written by `fashionvision train` (best.ckpt or last.ckpt)" };
        var dataset = new Option<string?>("--dataset", "-d") { Description = "The dataset to test on (default: the one the checkpoint was trained on)" };
        dataset.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name)
                CommonOptions.RequireKnown(result, name, DatasetCatalog.Names, "dataset");
        });
        var dataDir = CommonOptions.DataDirectory();
        var maxTest = CommonOptions.OptionalInt("--max-test-images", "Evaluate on only the first N test images");
        var tta = CommonOptions.Tta();
        var ensemble = CommonOptions.Ensemble();
        var device = CommonOptions.Device();
        var batchSize = CommonOptions.Int("--batch-size", 512, "Images per evaluation batch");
        var command = new Command("evaluate", "Evaluate a trained checkpoint on a test split: accuracy, per-class precision/recall/F1, confusion.")
        {
            checkpoint, dataset, dataDir, maxTest, tta, ensemble, device, batchSize,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetRequiredValue(checkpoint);
            var torchDevice = CommonOptions.ResolveDevice(parse.GetRequiredValue(device));
            var (model, manifest, normalization) = CheckpointModels.LoadForInference(file, CommonOptions.GetEnsemble(parse, ensemble));
            var policy = CommonOptions.GetTta(parse, tta);
            using (model)
            {
                string datasetName = parse.GetValue(dataset) ?? DatasetFor(manifest.ClassNames);
                var source = DatasetCatalog.Create(datasetName, CommonOptions.DatasetOptions(parse.GetValue(dataDir)));
                if (!source.ClassNames.SequenceEqual(manifest.ClassNames))
                    throw new CliException($"{file.Name} was trained on other classes ({string.Join(", ", manifest.ClassNames)}) than {datasetName} has.");
                using var test = RunData.Load(source, DatasetSplit.Test, parse.GetValue(maxTest));
                model.to(torchDevice);
                var result = Evaluator.Evaluate(model, test, new EvaluatorOptions
                {
                    Device = torchDevice,
                    Normalization = normalization,
                    Tta = policy,
                    BatchSize = parse.GetValue(batchSize),
                });
                string views = policy is null ? "" : $", test-time augmentation {policy} ({policy.Views.Count} views)";
                context.Output.WriteLine($"{CheckpointModels.Describe(model, manifest, file)} on {datasetName}{views}: {result}");
                context.Output.WriteLine();
                context.Output.WriteLine(result.ToReport());
                var pairs = result.MostConfusedPairs(3).Where(p => p.Count > 0).ToList();
                if (pairs.Count > 0)
                    context.Output.WriteLine("most confused (true → predicted): " + string.Join("; ", pairs.Select(p => $"{result.ClassNames[p.TrueClass]} → {result.ClassNames[p.PredictedClass]} ({p.Count})")));
                if (FashionMnistSource.UpperBodyClasses.All(result.ClassNames.Contains))
                {
                    context.Output.WriteLine();
                    context.Output.WriteLine("confusion among the upper-body garments:");
                    context.Output.Write(result.ConfusionTable(FashionMnistSource.UpperBodyClasses));
                }
            }
            return CliApp.Success;
        });
        return command;
    }

    private static string DatasetFor(IReadOnlyList<string> classNames)
    {
        foreach (var name in DatasetCatalog.Names)
            if (DatasetCatalog.Create(name).ClassNames.SequenceEqual(classNames))
                return name;
        throw new CliException("the checkpoint's classes match no known dataset; pass --dataset");
    }
}
