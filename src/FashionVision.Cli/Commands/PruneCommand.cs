using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Models.Pruning;
using FashionVision.Training;
using Spectre.Console;
using TorchSharp;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision prune</c>: structured channel pruning of a checkpoint (fast-cnn, the ResNets), a short fine-tune, and
/// a pruned checkpoint whose manifest records the new widths, so <c>evaluate</c>, <c>export</c> and <c>predict</c> rebuild it.
/// </summary>
internal static class PruneCommand
{
    private static readonly string[] Importances = ["l1", "bn-scale"];

    public static Command Create(CliContext context)
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A checkpoint written by `fashionvision train` (fast-cnn or a ResNet without attention)" };
        var keep = CommonOptions.Double("--keep", 0.8, "Fraction of the channels every layer keeps, in (0, 1]", 0, maximum: 1);
        var importance = CommonOptions.Named("--importance", "l1", "How filters are ranked: their L1 norm or their BatchNorm scale", () => Importances, "importance");
        var epochs = CommonOptions.Int("--fine-tune-epochs", 1, "Epochs of fine-tuning after pruning (0: none)", minimum: 0);
        var lr = CommonOptions.Double("--lr", 1e-3, "Peak learning rate of the fine-tuning (AdamW, OneCycle per batch)");
        var batchSize = CommonOptions.Int("--batch-size", 128, "Images per mini-batch");
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var dataDir = CommonOptions.DataDirectory();
        var maxTrain = CommonOptions.OptionalInt("--max-train-images", "Fine-tune on only the first N training images");
        var maxTest = CommonOptions.OptionalInt("--max-test-images", "Evaluate on only the first N test images");
        var output = new Option<DirectoryInfo?>("--output", "-o") { Description = "Folder for pruned.ckpt (default: pruned-<keep> next to the checkpoint)" };
        var command = new Command("prune", "Prune a checkpoint's convolution channels, fine-tune it, and write a smaller checkpoint.")
        {
            checkpoint, keep, importance, epochs, lr, batchSize, seed, device, dataDir, maxTrain, maxTest, output,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetRequiredValue(checkpoint);
            double fraction = parse.GetValue(keep);
            var torchDevice = CommonOptions.ResolveDevice(parse.GetRequiredValue(device));
            var (model, manifest) = CheckpointModels.Load(file);
            using (model)
            {
                if (model is not IChannelPrunable)
                    throw new CliException($"{manifest.ModelName} cannot be pruned: only fast-cnn and the ResNets without attention can.");
                var source = RunData.SourceFor(manifest.ClassNames, parse.GetValue(dataDir), "there are no images to fine-tune and evaluate on");
                using var train = RunData.Load(source, DatasetSplit.Train, parse.GetValue(maxTrain));
                using var test = RunData.Load(source, DatasetSplit.Test, parse.GetValue(maxTest));
                var shape = manifest.InputShape.Length == 3 ? manifest.InputShape : [train.ImageShape.Channels, train.ImageShape.Height, train.ImageShape.Width];
                EvaluationResult Evaluate(ImageClassifier network) => Evaluator.Evaluate(network, test,
                    new EvaluatorOptions { Device = torchDevice, Normalization = manifest.Normalization });
                string[] Row(string name, ImageClassifier network, EvaluationResult result) =>
                [
                    name, $"{network.parameters().Sum(p => p.numel()):N0}",
                    $"{FlopCounter.CountFlops(network, shape[0], shape[1], shape[2]) / 1e6:N1}", $"{result.Accuracy:P2}",
                ];

                model.to(torchDevice);
                var rows = new List<string[]> { Row($"{manifest.ModelName} ({file.Name})", model, Evaluate(model)) };
                PruningResult pruning;
                try
                {
                    pruning = ChannelPruner.Prune(model, new PruningOptions
                    {
                        Keep = fraction,
                        Importance = parse.GetRequiredValue(importance) == "bn-scale" ? FilterImportance.BatchNormScale : FilterImportance.L1Norm,
                    });
                }
                catch (NotSupportedException e)
                {
                    throw new CliException($"{manifest.ModelName} cannot be pruned: {e.Message}");
                }
                using var pruned = pruning.Model;
                context.Output.WriteLine($"pruned {manifest.ModelName} to {fraction:P0} of its channels: widths [{string.Join(", ", pruning.Groups.Select(g => g.WidthBefore))}] → [{string.Join(", ", pruning.ChannelWidths)}]");
                rows.Add(Row("pruned", pruned, Evaluate(pruned)));

                int fineTuneEpochs = parse.GetValue(epochs);
                string folder = parse.GetValue(output)?.FullName ?? Path.Combine(file.DirectoryName!, $"pruned-{fraction.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}");
                Directory.CreateDirectory(folder);
                var modelOptions = CheckpointModels.Options(manifest, file.FullName) with { Width = null, ChannelWidths = pruning.ChannelWidths };
                var display = new TrainingDisplay(context, parse.GetValue(batchSize));
                using (var trainer = new Trainer(pruned, new TrainerOptions
                {
                    Epochs = fineTuneEpochs,
                    BatchSize = parse.GetValue(batchSize),
                    DropLast = train.Count > parse.GetValue(batchSize),
                    Seed = parse.GetValue(seed),
                    Device = torchDevice,
                    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = parse.GetValue(lr) },
                    Scheduler = fineTuneEpochs > 0
                        ? new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch }
                        : new SchedulerOptions { Kind = SchedulerKind.Constant },
                    Normalize = manifest.Normalization is not null,
                    Normalization = manifest.Normalization,
                    Logger = display.Logger,
                    Progress = display,
                }.WithZooModel(manifest.ModelName!, modelOptions)))
                {
                    display.Run(fineTuneEpochs, () => trainer.Fit(train, validationSet: null, context.CancellationToken));
                    string path = Path.Combine(folder, "pruned.ckpt");
                    trainer.SaveCheckpoint(path);
                    if (fineTuneEpochs > 0)
                        rows.Add(Row($"pruned + {fineTuneEpochs} fine-tuning epoch{(fineTuneEpochs == 1 ? "" : "s")}", pruned, Evaluate(pruned)));

                    var table = new Table().AddColumns("model", "parameters", "MFLOPs/image", $"test accuracy ({test.Count:N0})");
                    foreach (var row in rows)
                        table.AddRow(row.Select(Markup.Escape).ToArray());
                    context.Console.Write(table);
                    context.Output.WriteLine($"pruned checkpoint: {path} ({pruning.ParametersAfter:N0} parameters, {pruning.ParameterRatio:P1} of {pruning.ParametersBefore:N0})");
                }
            }
            return CliApp.Success;
        });
        return command;
    }
}
