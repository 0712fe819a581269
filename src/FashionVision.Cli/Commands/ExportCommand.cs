using System.CommandLine;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Inference;
using FashionVision.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision export</c>: a checkpoint to ONNX (opset 17, dynamic batch), optionally also INT8 (QDQ), and optionally into
/// an NVIDIA Triton model repository. With <c>--ensemble</c> and <c>--tta</c> the graph averages the members' and the views'
/// probabilities itself.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var checkpoint = new Argument<FileInfo>("checkpoint") { Description = "A checkpoint written by `fashionvision train`" };
        var output = new Option<FileInfo?>("--output", "-o") { Description = "The .onnx file to write (default: next to the checkpoint, model.onnx)" };
        var int8 = new Option<bool>("--int8") { Description = "Also write an INT8 (QDQ) model calibrated on training images, as <output>.int8.onnx" };
        var int8Target = CommonOptions.Named("--int8-target", "auto",
            "The CPU class the INT8 models are for: auto (this CPU: vnni where it has VNNI, else portable), vnni (full-range weights), " +
            "avx2 or portable (7-bit weights that ONNX Runtime's non-VNNI x86 kernels cannot saturate; portable is right on every CPU)",
            () => Int8TargetNames, "INT8 target");
        var calibration = CommonOptions.Int("--calibration-images", 512, "Training images used to calibrate the INT8 activation ranges");
        var dataDir = CommonOptions.DataDirectory();
        var opset = CommonOptions.Int("--opset", OnnxExportOptions.MinimumOpset, $"ONNX opset ({OnnxExportOptions.MinimumOpset}-{OnnxExportOptions.MaximumOpset})", OnnxExportOptions.MinimumOpset);
        var qatEpochs = CommonOptions.Int("--qat-epochs", 0,
            "Also write an INT8 model fine-tuned for N epochs with quantization-aware training (scales calibrated, then frozen), as <output>.int8-qat.onnx", minimum: 0);
        var qatLr = CommonOptions.Double("--qat-lr", 1e-4, "Learning rate of the quantization-aware fine-tuning (AdamW, cosine per batch)");
        var batchSize = CommonOptions.Int("--batch-size", 128, "Images per mini-batch of the quantization-aware fine-tuning");
        var maxTrain = CommonOptions.OptionalInt("--max-train-images", "Fine-tune the quantization-aware model on only the first N training images");
        var seed = CommonOptions.Seed();
        var triton = new Option<DirectoryInfo?>("--triton") { Description = "Also write an NVIDIA Triton model repository here: <dir>/<name>/1/model.onnx, config.pbtxt, labels.txt (with --int8 also <name>-int8, with --qat-epochs <name>-int8-qat)" };
        var tritonName = new Option<string?>("--triton-name") { Description = "The model's name in the Triton repository (default: the checkpoint's model name)" };
        tritonName.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name && !TritonModelRepository.IsValidName(name))
                result.AddError($"--triton-name must be letters, digits, '.', '-' or '_', not '{name}'.");
        });
        var tta = CommonOptions.Tta();
        var ensemble = CommonOptions.Ensemble();
        var command = new Command("export",
            "Export a checkpoint to ONNX, checked to load, with optional INT8 quantization (post-training or quantization-aware) and a Triton model repository.")
        {
            checkpoint, output, int8, int8Target, calibration, dataDir, opset, qatEpochs, qatLr, batchSize, maxTrain, seed, triton, tritonName, tta, ensemble,
        };
        command.SetAction(parse =>
        {
            var file = parse.GetRequiredValue(checkpoint);
            var target = Enum.Parse<Int8Target>(parse.GetValue(int8Target)!, ignoreCase: true);
            var (network, manifest, normalization) = CheckpointModels.LoadForInference(file, CommonOptions.GetEnsemble(parse, ensemble));
            nn.Module<Tensor, Tensor> model = CommonOptions.GetTta(parse, tta) is { } policy ? new TtaClassifier(network, policy, normalization) : network;
            using (model)
            {
                if (parse.GetValue(opset) > OnnxExportOptions.MaximumOpset)
                    throw new CliException($"--opset must be at most {OnnxExportOptions.MaximumOpset}.");
                string path = parse.GetValue(output)?.FullName ?? Path.Combine(file.DirectoryName!, "model.onnx");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                int[] shape = manifest.InputShape.Length == 3 ? manifest.InputShape : [1, 28, 28];
                OnnxExporter.Export(model, path, new OnnxExportOptions
                {
                    Channels = shape[0],
                    Height = shape[1],
                    Width = shape[2],
                    Opset = parse.GetValue(opset),
                    ClassNames = manifest.ClassNames,
                    Mean = normalization?.Mean,
                    Std = normalization?.Std,
                    GraphName = model is EnsembleClassifier or TtaClassifier ? model.GetName() : manifest.ModelName,
                });
                long size = new FileInfo(path).Length;
                string averaged = model is TtaClassifier t ? $", averages {t.Policy.Views.Count} test-time views" : "";
                if (network is EnsembleClassifier e)
                    averaged += $", averages {e.Members.Count} models";
                context.Output.WriteLine($"ONNX model: {path} ({size / 1024.0:N0} KiB, opset {parse.GetValue(opset)}, input {shape[0]}×{shape[1]}×{shape[2]}, dynamic batch{averaged})");
                var repository = parse.GetValue(triton);
                var name = parse.GetValue(tritonName) ?? manifest.ModelName ?? "model";
                if (repository is not null)
                    WriteTriton(context, path, repository, name);

                if (parse.GetValue(int8))
                {
                    string quantized = Path.ChangeExtension(path, ".int8.onnx");
                    var source = RunData.SourceFor(manifest.ClassNames, parse.GetValue(dataDir), "there are no calibration images for --int8");
                    using var train = RunData.Load(source, DatasetSplit.Train, parse.GetValue(calibration));
                    using var images = train.Images.to_type(ScalarType.Float32).div(255);
                    var report = OnnxQuantizer.QuantizeStatic(path, quantized, images, new OnnxQuantizationOptions { Target = target });
                    context.Output.WriteLine($"INT8 model: {quantized} ({Describe(report)})");
                    context.Output.WriteLine($"INT8 target: {DescribeTarget(report)}");
                    if (repository is not null)
                        WriteTriton(context, quantized, repository, name + "-int8");
                }

                if (parse.GetValue(qatEpochs) is > 0 and var epochs)
                {
                    string quantized = Path.ChangeExtension(path, ".int8-qat.onnx");
                    var source = RunData.SourceFor(manifest.ClassNames, parse.GetValue(dataDir), "there are no training images for --qat-epochs");
                    using var train = RunData.Load(source, DatasetSplit.Train, parse.GetValue(maxTrain));
                    var defaults = new QuantizationAwareTrainingOptions();
                    var display = new TrainingDisplay(context, parse.GetValue(batchSize));
                    var result = display.Run(epochs, () => OnnxQuantizer.QuantizeWithTraining(path, quantized, train, defaults with
                    {
                        CalibrationImages = parse.GetValue(calibration),
                        Quantization = defaults.Quantization with { Target = target },
                        Training = defaults.Training with
                        {
                            Epochs = epochs,
                            BatchSize = parse.GetValue(batchSize),
                            DropLast = train.Count > parse.GetValue(batchSize),
                            Seed = parse.GetValue(seed),
                            Optimizer = defaults.Training.Optimizer with { LearningRate = parse.GetValue(qatLr) },
                            Logger = display.Logger,
                            Progress = display,
                        },
                    }, context.CancellationToken));
                    context.Output.WriteLine($"INT8 model, quantization-aware ({epochs} epoch{(epochs == 1 ? "" : "s")} on {train.Count:N0} images): {quantized} ({Describe(result.Quantization)})");
                    context.Output.WriteLine($"INT8 target: {DescribeTarget(result.Quantization)}");
                    if (repository is not null)
                        WriteTriton(context, quantized, repository, name + "-int8-qat");
                }
            }
            return CliApp.Success;
        });
        return command;
    }

    private static readonly string[] Int8TargetNames = Enum.GetNames<Int8Target>().Select(n => n.ToLowerInvariant()).ToArray();

    private static string DescribeTarget(OnnxQuantizationReport report) =>
        report.Target is { } t ? $"{t.Name}, weights in ±{t.WeightMax} ({t.Reason})" : "unknown";

    private static string Describe(OnnxQuantizationReport report) =>
        $"{report.QuantizedBytes / 1024.0:N0} KiB, {report.CompressionRatio:0.0}× smaller; {report.QuantizedWeights} weights and {report.QuantizedActivations} activations quantized, calibrated on {report.CalibrationImages} images";

    private static void WriteTriton(CliContext context, string onnxPath, DirectoryInfo repository, string name)
    {
        var layout = TritonModelRepository.Write(onnxPath, repository.FullName, new TritonModelOptions { Name = name });
        context.Output.WriteLine($"Triton model: {layout.ModelDirectory} (config.pbtxt, labels.txt, 1/model.onnx; serve with tritonserver --model-repository {repository.FullName})");
    }
}
