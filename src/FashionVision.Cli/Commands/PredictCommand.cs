using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Imaging;
using FashionVision.Inference;
using FashionVision.Onnx;
using FashionVision.Training;
using FashionVision.Visualization;
using Spectre.Console;

namespace FashionVision.Cli.Commands;

/// <summary><c>fashionvision predict</c>: classifies image files (PNG, JPEG, ...) with a checkpoint or an ONNX model.</summary>
internal static class PredictCommand
{
    private static readonly string[] Styles = ["fashion-mnist", "mnist", "raw"];
    private static readonly string[] Inversions = ["auto", "never", "always"];

    public static Command Create(CliContext context)
    {
        var images = new Argument<FileInfo[]>("images") { Description = "Image files to classify", Arity = ArgumentArity.OneOrMore };
        var model = new Option<FileInfo>("--model", "-m") { Description = "A checkpoint (.ckpt) or an ONNX model (.onnx)", Required = true };
        model.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo>() is { Exists: false } file)
                result.AddError($"--model: no such file '{file.FullName}'.");
        });
        var top = CommonOptions.Int("--top", 3, "How many classes to show per image");
        var style = CommonOptions.Named("--style", "fashion-mnist", "How to fit a photo into the model's input", () => Styles, "style");
        var invert = CommonOptions.Named("--invert", "auto", "Invert dark-on-light photos", () => Inversions, "inversion");
        var tta = CommonOptions.Tta();
        var command = new Command("predict", "Classify image files with a trained checkpoint or an exported ONNX model.") { images, model, top, style, invert, tta };
        command.SetAction(parse =>
        {
            var files = parse.GetRequiredValue(images);
            foreach (var file in files)
                if (!file.Exists)
                    throw new CliException($"no such image: {file.FullName}");
            var modelFile = parse.GetRequiredValue(model);
            using var predictor = Open(modelFile, CommonOptions.GetTta(parse, tta));
            var (channels, height, width) = predictor.InputShape;
            var decode = DecodeOptions(parse.GetRequiredValue(style)) with
            {
                Width = width,
                Height = height,
                Channels = channels,
                Inversion = parse.GetRequiredValue(invert) switch { "never" => InversionMode.Never, "always" => InversionMode.Always, _ => InversionMode.Auto },
            };
            var predictions = predictor.PredictImages(files.Select(f => f.FullName).ToArray(), decode, parse.GetValue(top));
            var table = new Table().AddColumn("image").AddColumn("class").AddColumn(new TableColumn("probability").RightAligned()).AddColumn("top classes");
            for (int i = 0; i < files.Length; i++)
            {
                var p = predictions[i];
                table.AddRow(Markup.Escape(files[i].Name), Markup.Escape(p.ClassName), $"{p.Confidence:P1}",
                    Markup.Escape(string.Join(", ", p.TopK.Select(k => $"{k.ClassName} {k.Probability:P1}"))));
            }
            context.Console.Write(table);
            return CliApp.Success;
        });
        return command;
    }

    private static ImageDecodeOptions DecodeOptions(string style) => style switch
    {
        "mnist" => ImageDecodeOptions.Mnist,
        "raw" => ImageDecodeOptions.Raw,
        _ => ImageDecodeOptions.FashionMnist,
    };

    private static IPredictor Open(FileInfo file, TestTimeAugmentation? tta)
    {
        if (!file.Extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
            return Predictor.FromCheckpoint(file.FullName, tta: tta);
        if (tta is not null)
            throw new CliException("--tta applies to checkpoints; an ONNX model averages test-time views when it was exported with `fashionvision export --tta`.");
        return OnnxPredictor.Load(file.FullName);
    }
}
