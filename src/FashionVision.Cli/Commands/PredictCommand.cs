using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Imaging;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Onnx;
using FashionVision.Training;
using FashionVision.Visualization;
using Spectre.Console;
using TorchSharp;

namespace FashionVision.Cli.Commands;

/// <summary><c>fashionvision predict</c>: classifies image files (PNG, JPEG, ...) with a checkpoint or an ONNX model.</summary>
internal static class PredictCommand
{
    private static readonly string[] Inversions = ["auto", "never", "always"];

    /// <summary>Images per forward pass when a whole folder or CSV file is classified.</summary>
    private const int ChunkSize = 256;

    public static Command Create(CliContext context)
    {
        var images = new Argument<FileInfo[]>("images") { Description = "Image files to classify", Arity = ArgumentArity.ZeroOrMore };
        var model = new Option<FileInfo>("--model", "-m") { Description = "A checkpoint (.ckpt) or an ONNX model (.onnx)", Required = true };
        model.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo>() is { Exists: false } file)
                result.AddError($"--model: no such file '{file.FullName}'.");
        });
        var data = UserData.FolderOption();
        data.Description = "Classify every image file under a folder (subfolders included)";
        var csv = UserData.CsvOption("--csv", "Classify every row of a CSV file (pixel1,...,pixelN, with or without a label column first)");
        var skipBadFiles = UserData.SkipBadFilesOption();
        var top = CommonOptions.Int("--top", 3, "How many classes to show per image");
        var style = UserData.StyleOption("fashion-mnist");
        style.Description += "; with --data the default is raw";
        var invert = CommonOptions.Named("--invert", "auto", "Invert dark-on-light photos", () => Inversions, "inversion");
        var tta = CommonOptions.Tta();
        var command = new Command("predict", "Classify image files, a folder of images or a CSV file with a trained checkpoint or an exported ONNX model.")
        {
            images, model, top, style, invert, tta, data, csv, skipBadFiles,
        };
        command.SetAction(parse =>
        {
            var files = parse.GetValue(images) ?? [];
            var folder = parse.GetValue(data);
            var csvFile = parse.GetValue(csv);
            if ((files.Length > 0 ? 1 : 0) + (folder is null ? 0 : 1) + (csvFile is null ? 0 : 1) != 1)
                throw new CliException("give image files, --data FOLDER or --csv FILE (one of them).");
            foreach (var file in files)
                if (!file.Exists)
                    throw new CliException($"no such image: {file.FullName}");
            using var predictor = Open(parse.GetRequiredValue(model), CommonOptions.GetTta(parse, tta));
            var (channels, height, width) = predictor.InputShape;
            // A folder is read like training data (raw) unless a style is asked for; single photos are fitted like Fashion-MNIST.
            string styleName = folder is not null && parse.GetResult(style) is not { Implicit: false } ? UserData.RawStyle : parse.GetRequiredValue(style);
            var decode = UserData.DecodeOptions(styleName, channels, height, width) with
            {
                Inversion = parse.GetRequiredValue(invert) switch { "never" => InversionMode.Never, "always" => InversionMode.Always, _ => InversionMode.Auto },
            };
            if (folder is not null && styleName == UserData.RawStyle && parse.GetResult(invert) is not { Implicit: false })
                decode = decode with { Inversion = InversionMode.Never };
            int topK = parse.GetValue(top);
            bool skip = parse.GetValue(skipBadFiles);

            var (names, predictions) = files.Length > 0
                ? (files.Select(f => f.Name).ToList(), predictor.PredictImages(files.Select(f => f.FullName).ToArray(), decode, topK))
                : folder is not null
                    ? PredictFolder(context, predictor, folder.FullName, decode, skip, topK)
                    : PredictCsv(context, predictor, csvFile!.FullName, skip, topK);
            var table = new Table().AddColumn("image").AddColumn("class").AddColumn(new TableColumn("probability").RightAligned()).AddColumn("top classes");
            for (int i = 0; i < names.Count; i++)
            {
                var p = predictions[i];
                table.AddRow(Markup.Escape(names[i]), Markup.Escape(p.ClassName), $"{p.Confidence:P1}",
                    Markup.Escape(string.Join(", ", p.TopK.Select(k => $"{k.ClassName} {k.Probability:P1}"))));
            }
            context.Console.Write(table);
            return CliApp.Success;
        });
        return command;
    }

    private static (IReadOnlyList<string> Names, IReadOnlyList<Prediction> Predictions) PredictFolder(CliContext context, IPredictor predictor, string folder,
        ImageDecodeOptions decode, bool skipBadFiles, int topK)
    {
        var paths = ImageFiles.Find(folder);
        if (paths.Count == 0)
            throw new DatasetFormatException(folder, $"holds no image files ({string.Join(", ", ImageFolderOptions.DefaultExtensions)})");
        var decoded = ImageFiles.Decode(paths, new ImageFolderOptions { Decode = decode, SkipBadFiles = skipBadFiles, Logger = new CliLogger(context), Name = Path.GetFileName(folder) },
            context.CancellationToken);
        using var images = decoded.Images;
        return (decoded.Files.Select(f => Path.GetRelativePath(folder, f)).ToList(), PredictInChunks(predictor, images, topK));
    }

    private static (IReadOnlyList<string> Names, IReadOnlyList<Prediction> Predictions) PredictCsv(CliContext context, IPredictor predictor, string path, bool skipBadRows, int topK)
    {
        var (channels, height, width) = predictor.InputShape;
        var loaded = CsvDatasetSource.ReadFile(path, new CsvDatasetOptions
        {
            Channels = channels,
            Height = height,
            Width = width,
            HasLabels = null,
            ClassNames = predictor.ClassNames,
            SkipBadRows = skipBadRows,
            Logger = new CliLogger(context),
        }, context.CancellationToken);
        using var dataset = loaded.Dataset;
        var names = loaded.Origins!.Select(origin => "line " + origin[(origin.LastIndexOf(':') + 1)..]).ToList();
        return (names, PredictInChunks(predictor, dataset.Images, topK));
    }

    /// <summary>Classifies uint8 images N×C×H×W a chunk at a time, so a large folder never makes one huge batch.</summary>
    private static IReadOnlyList<Prediction> PredictInChunks(IPredictor predictor, torch.Tensor images, int topK)
    {
        var predictions = new List<Prediction>((int)images.shape[0]);
        for (long start = 0; start < images.shape[0]; start += ChunkSize)
        {
            using var scope = torch.NewDisposeScope();
            var chunk = images.narrow(0, start, Math.Min(ChunkSize, images.shape[0] - start));
            var pixels = chunk.to_type(torch.ScalarType.Float32).div(255f).contiguous().data<float>().ToArray();
            predictions.AddRange(predictor.Predict(pixels, (int)chunk.shape[0], topK));
        }
        return predictions;
    }

    private static IPredictor Open(FileInfo file, TestTimeAugmentation? tta)
    {
        if (!file.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            return Predictor.FromCheckpoint(file.FullName, tta: tta);
        if (tta is not null)
            throw new CliException("--tta applies to checkpoints; an ONNX model averages test-time views when it was exported with `fashionvision export --tta`.");
        return OnnxPredictor.Load(file.FullName);
    }
}
