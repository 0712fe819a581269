using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision evaluate</c>: a checkpoint's (or an ensemble's) accuracy, per-class report, most confused pairs and, for
/// Fashion-MNIST, the confusion among the upper-body garments, on a test split, optionally with test-time augmentation.
/// </summary>
internal static class EvaluateCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A checkpoint written by `fashionvision train` or `prune` (last.ckpt, pruned.ckpt), or an ONNX model written by `export` (.onnx, FP32 or INT8)" };
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
        var embedding = new EmbeddingPlot();
        var data = UserData.FolderOption();
        var csv = UserData.CsvOption("--csv", "Evaluate on your own images as a CSV file (label,pixel1,...; the checkpoint's image size and classes)");
        var style = UserData.StyleOption();
        var skipBadFiles = UserData.SkipBadFilesOption();
        var command = new Command("evaluate", "Evaluate a trained checkpoint or ONNX model on a test split: accuracy, per-class precision/recall/F1, confusion.")
        {
            checkpoint, dataset, dataDir, maxTest, tta, ensemble, device, batchSize, data, csv, style, skipBadFiles,
        };
        foreach (var option in embedding.Options)
            command.Add(option);
        // The test images: --data/--csv read at the model's input shape, else the built-in dataset the model's classes belong to.
        InMemoryDataset TestSet(ParseResult parse, FileInfo file, IReadOnlyList<string> classNames, (int Channels, int Height, int Width) shape, out string datasetName)
        {
            var folder = parse.GetValue(data);
            var csvFile = parse.GetValue(csv);
            if (folder is not null && csvFile is not null)
                throw new CliException("give either --data FOLDER or --csv FILE, not both.");
            IDatasetSource source;
            DatasetSplit split = DatasetSplit.Test;
            if (folder is not null || csvFile is not null)
            {
                if (new Option[] { dataset, dataDir }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } clash)
                    throw new CliException($"{clash.Name} names a built-in dataset; leave it out when evaluating on your own data.");
                var own = new UserDataSettings(folder is not null ? UserData.FolderKind : UserData.CsvKind, folder?.FullName ?? csvFile!.FullName, TestPath: null,
                    shape.Channels, shape.Height, shape.Width, Resize: true, parse.GetRequiredValue(style), Classes: null, parse.GetValue(skipBadFiles), TestSplit: 0);
                source = UserData.CreateSource(own, context, classNames);
                // A folder without a test/ folder, and a CSV file, are evaluated whole.
                if (!UserData.HasTestSplit(source))
                    split = DatasetSplit.Train;
            }
            else
            {
                source = DatasetCatalog.Create(parse.GetValue(dataset) ?? RunData.DatasetNameFor(classNames, "pass --dataset"), CommonOptions.DatasetOptions(parse.GetValue(dataDir)));
            }
            datasetName = source.Name;
            if (!source.ClassNames.SequenceEqual(classNames))
                throw new CliException($"{file.Name} was trained on other classes ({string.Join(", ", classNames)}) than {datasetName} has ({string.Join(", ", source.ClassNames)}).");
            return RunData.Load(source, split, parse.GetValue(maxTest));
        }

        command.SetAction(parse =>
        {
            var file = parse.GetRequiredValue(checkpoint);
            if (file.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                if (parse.GetResult(tta) is not null || parse.GetResult(ensemble) is not null)
                    throw new CliException("--tta and --ensemble need checkpoints: an ONNX model is evaluated as it is (export it with --tta or --ensemble to average inside the graph).");
                if (!file.Exists)
                    throw new CliException($"no such model: {file.FullName}");
                using var predictor = OnnxPredictor.Load(file.FullName);
                using var test = TestSet(parse, file, predictor.ClassNames, predictor.InputShape, out string datasetName);
                Print(context, $"{file.Name} (ONNX Runtime) on {datasetName}", EvaluateOnnx(predictor, test, parse.GetValue(batchSize)));
                return CliApp.Success;
            }

            var torchDevice = CommonOptions.ResolveDevice(parse.GetRequiredValue(device));
            var (model, manifest, normalization) = CheckpointModels.LoadForInference(file, CommonOptions.GetEnsemble(parse, ensemble));
            var policy = CommonOptions.GetTta(parse, tta);
            using (model)
            {
                using var test = TestSet(parse, file, manifest.ClassNames, CheckpointModels.InputShape(manifest), out string datasetName);
                model.to(torchDevice);
                var result = Evaluator.Evaluate(model, test, new EvaluatorOptions
                {
                    Device = torchDevice,
                    Normalization = normalization,
                    Tta = policy,
                    BatchSize = parse.GetValue(batchSize),
                });
                string views = policy is null ? "" : $", test-time augmentation {policy} ({policy.Views.Count} views)";
                Print(context, $"{CheckpointModels.Describe(model, manifest, file)} on {datasetName}{views}", result);
                embedding.RunIfRequested(parse, context, model, test, normalization, torchDevice, manifest.ModelName ?? file.Name);
            }
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Runs an ONNX model over the test set in batches and summarises its predictions like the Evaluator does.</summary>
    private static EvaluationResult EvaluateOnnx(OnnxPredictor predictor, InMemoryDataset test, int batchSize)
    {
        int count = (int)test.Count, classes = predictor.ClassNames.Count;
        var logits = new float[(long)count * classes];
        for (int start = 0; start < count; start += batchSize)
        {
            int take = Math.Min(batchSize, count - start);
            using var pixels = test.Images.narrow(0, start, take).to_type(ScalarType.Float32).div(255).contiguous();
            predictor.PredictLogits(pixels.data<float>().ToArray(), take).CopyTo(logits, (long)start * classes);
        }
        using var probabilities = torch.nn.functional.softmax(torch.tensor(logits, [count, classes]), 1);
        return Evaluator.Summarize(probabilities, test.Labels, predictor.ClassNames);
    }

    private static void Print(CliContext context, string title, EvaluationResult result)
    {
        context.Output.WriteLine($"{title}: {result}");
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
}
