using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Cli.Commands;

/// <summary><c>fashionvision evaluate</c>: a checkpoint's accuracy, per-class report and most confused pairs on a test split.</summary>
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
        var tta = new Option<bool>("--tta") { Description = "Test-time augmentation: average with the horizontally flipped images" };
        var device = CommonOptions.Device();
        var batchSize = CommonOptions.Int("--batch-size", 512, "Images per evaluation batch");
        var command = new Command("evaluate", "Evaluate a trained checkpoint or ONNX model on a test split: accuracy, per-class precision/recall/F1, confusion.")
        {
            checkpoint, dataset, dataDir, maxTest, tta, device, batchSize,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetRequiredValue(checkpoint);
            if (file.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                if (parse.GetValue(tta))
                    throw new CliException("--tta needs a checkpoint: an ONNX model is evaluated as it is.");
                if (!file.Exists)
                    throw new CliException($"no such model: {file.FullName}");
                using var predictor = OnnxPredictor.Load(file.FullName);
                using var test = TestSet(parse, dataset, dataDir, maxTest, file, predictor.ClassNames, out string datasetName);
                Print(context, $"{file.Name} (ONNX Runtime) on {datasetName}", EvaluateOnnx(predictor, test, parse.GetValue(batchSize)));
                return CliApp.Success;
            }

            var torchDevice = CommonOptions.ResolveDevice(parse.GetRequiredValue(device));
            var (model, manifest) = CheckpointModels.Load(file);
            using (model)
            {
                using var test = TestSet(parse, dataset, dataDir, maxTest, file, manifest.ClassNames, out string datasetName);
                model.to(torchDevice);
                var result = Evaluator.Evaluate(model, test, new EvaluatorOptions
                {
                    Device = torchDevice,
                    Normalization = manifest.Normalization,
                    HorizontalFlipTta = parse.GetValue(tta),
                    BatchSize = parse.GetValue(batchSize),
                });
                Print(context, $"{manifest.ModelName} ({file.Name}, epoch {manifest.Epoch}) on {datasetName}", result);
            }
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>The test split of the dataset the model's classes belong to (or of --dataset, checked against them).</summary>
    private static InMemoryDataset TestSet(ParseResult parse, Option<string?> dataset, Option<DirectoryInfo?> dataDir, Option<int?> maxTest,
        FileInfo file, IReadOnlyList<string> classNames, out string datasetName)
    {
        datasetName = parse.GetValue(dataset) ?? RunData.DatasetNameFor(classNames, "pass --dataset");
        var source = DatasetCatalog.Create(datasetName, CommonOptions.DatasetOptions(parse.GetValue(dataDir)));
        if (!source.ClassNames.SequenceEqual(classNames))
            throw new CliException($"{file.Name} was trained on other classes ({string.Join(", ", classNames)}) than {datasetName} has.");
        return RunData.Load(source, DatasetSplit.Test, parse.GetValue(maxTest));
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
    }
}
