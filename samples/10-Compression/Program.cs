// 10 · Compression: a smaller, faster Fashion-MNIST classifier three ways — distil a large teacher into a small student,
// prune the teacher's channels, and train it with its INT8 quantization in the loop — each measured end to end, down to
// the ONNX file an app ships.
//
// Run:   dotnet run -c Release --project samples/10-Compression [-- --quick] [--output folder]
// This sample's default run (60,000 images, the teacher trained by the full fast recipe) has not been measured yet.
// docs/recipes.md ("Compression") gives measured tables of the same three workflows run from the CLI
// (`fashionvision prune`, `train --teacher`, `export --int8 --qat-epochs`), with their commands, and the benchmarks that
// time the files (CompressionBenchmarks, OnnxFileBenchmarks).
//
// Read it top to bottom like a notebook. Everything here is library API: ChannelPruner (Models.Pruning), the Trainer with
// a teacher (distillation), OnnxExporter, OnnxQuantizer.QuantizeStatic (post-training INT8) and
// OnnxQuantizer.QuantizeWithTraining (quantization-aware INT8).
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Models.Pruning;
using FashionVision.Onnx;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

bool quick = args.Contains("--quick");
int outputAt = Array.IndexOf(args, "--output");
string output = Path.GetFullPath(outputAt >= 0 && outputAt + 1 < args.Length ? args[outputAt + 1] : "compression-output");
Directory.CreateDirectory(output);
const long seed = 0;

var source = new FashionMnistSource();
using var fullTrain = source.Load(DatasetSplit.Train);
using var fullTest = source.Load(DatasetSplit.Test);
using var train = fullTrain.Take(quick ? 6_000 : 60_000);
using var test = fullTest.Take(quick ? 2_000 : 10_000);
var rows = new List<Row>();

// ## 1. The teacher
// The fast recipe's network (fast-cnn, 158k parameters), trained as the recipe trains it; the checkpoint is written to
// <output>/teacher, so the CLI can prune it too (`fashionvision prune <output>/teacher/last.ckpt --keep 0.8`).
var recipe = Recipes.FashionMnistFast(seed, ComputePrecision.Float32);
using var teacher = recipe.CreateModel(1, 10);
var teacherOptions = recipe.TrainerOptions() with { Epochs = quick ? 1 : recipe.Spec.Training.Epochs, CheckpointDirectory = Path.Combine(output, "teacher") };
using (var trainer = new Trainer(teacher, teacherOptions))
    trainer.Fit(train);
var stats = train.ComputeStatistics();
Console.WriteLine($"teacher fast-cnn: {Accuracy(teacher):P2}");

// ## 2. A student alone and distilled
// LeNet-5 (62k parameters, 1/30 of the teacher's multiply-adds) twice, with the same seed, initial weights, data order and
// schedule; the second run adds the teacher's softened outputs: α·T²·KL(teacher ‖ student) + (1 − α)·cross-entropy.
int studentEpochs = quick ? 1 : 5;
TrainerOptions StudentOptions() => new()
{
    Epochs = studentEpochs,
    Seed = seed,
    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 3e-3 },
    Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
    Normalization = stats,
};
using var alone = ModelZoo.Create("lenet5", new ModelOptions { Seed = seed });
using (var trainer = new Trainer(alone, StudentOptions()))
    trainer.Fit(train);
using var distilled = ModelZoo.Create("lenet5", new ModelOptions { Seed = seed });
using (var trainer = new Trainer(distilled, StudentOptions() with
{
    Teacher = teacher,
    Loss = new LossOptions { Kind = LossKind.Distillation, DistillationTemperature = 4, DistillationAlpha = 0.5 },
}))
    trainer.Fit(train);
Console.WriteLine($"lenet5 alone: {Accuracy(alone):P2}; distilled from fast-cnn (T = 4, α = 0.5): {Accuracy(distilled):P2} ({studentEpochs} epochs each)");

// ## 3. Prune the teacher
// Every layer keeps 60% of its channels, ranked by the L1 norm of their filters; channels tied by a residual addition go
// together. The result is a genuinely smaller fast-cnn (fewer parameters and multiply-adds, not masks), fine-tuned briefly.
var pruning = ChannelPruner.Prune(teacher, new PruningOptions { Keep = 0.6 });
using var pruned = pruning.Model;
double prunedBefore = Accuracy(pruned);
using (var trainer = new Trainer(pruned, new TrainerOptions
{
    Epochs = 1,
    Seed = seed,
    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3 },
    Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch },
    Normalization = stats,
}))
    trainer.Fit(train);
Console.WriteLine($"pruned to widths [{string.Join(", ", pruning.ChannelWidths)}]: {pruning.ParametersAfter:N0} of {pruning.ParametersBefore:N0} parameters; " +
                  $"accuracy {prunedBefore:P2} right after pruning, {Accuracy(pruned):P2} after one epoch of fine-tuning");

// ## 4. ONNX files: FP32, post-training INT8, quantization-aware INT8
// Post-training quantization calibrates activation ranges on 512 training images; quantization-aware training calibrates
// the same ranges, freezes them, and fine-tunes one epoch with fake-quantized weights and activations, so the INT8 file
// carries weights that learned to live with the rounding.
using var calibration = train.Images[..512].to_type(ScalarType.Float32).div(255);
string Export(ImageClassifier model, string name)
{
    string path = Path.Combine(output, name + ".onnx");
    OnnxExporter.Export(model, path, new OnnxExportOptions { ClassNames = test.ClassNames, Mean = stats.Mean, Std = stats.Std });
    return path;
}
string Ptq(string fp32)
{
    string path = Path.ChangeExtension(fp32, ".int8.onnx");
    OnnxQuantizer.QuantizeStatic(fp32, path, calibration);
    return path;
}
string Qat(string fp32)
{
    string path = Path.ChangeExtension(fp32, ".int8-qat.onnx");
    var defaults = new QuantizationAwareTrainingOptions();
    OnnxQuantizer.QuantizeWithTraining(fp32, path, train, defaults with { Training = defaults.Training with { Seed = seed } });
    return path;
}

string teacherFile = Export(teacher, "fast-cnn");
string prunedFile = Export(pruned, "fast-cnn-pruned-0.6");
string studentFile = Export(distilled, "lenet5-distilled");
Add("fast-cnn (teacher), FP32", teacher, teacherFile);
Add("fast-cnn, INT8 post-training", teacher, Ptq(teacherFile));
Add("fast-cnn, INT8 quantization-aware (1 epoch)", teacher, Qat(teacherFile));
Add("fast-cnn pruned to 60% + 1 epoch, FP32", pruned, prunedFile);
Add("pruned, INT8 post-training", pruned, Ptq(prunedFile));
Add("pruned, INT8 quantization-aware (1 epoch)", pruned, Qat(prunedFile));
Add("lenet5 distilled, FP32", distilled, studentFile);
Add("lenet5 distilled, INT8 post-training", distilled, Ptq(studentFile));

// ## 5. The deployment table
// Accuracy of each file in ONNX Runtime on the test images, its size, and the model's cost. Latency needs an idle
// machine: `dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*CompressionBenchmarks*'`.
Console.WriteLine();
Console.WriteLine($"| model | parameters | MFLOPs/image | file | test accuracy ({test.Count:N0}, ONNX Runtime) |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
foreach (var row in rows)
    Console.WriteLine($"| {row.Name} | {row.Parameters:N0} | {row.Flops / 1e6:N1} | {row.Bytes / 1024.0:N0} KiB | {row.Accuracy:P2} |");
Console.WriteLine($"files: {output}");

double Accuracy(ImageClassifier model) =>
    Evaluator.Evaluate(model, test, new EvaluatorOptions { Normalization = stats }).Accuracy;

void Add(string name, ImageClassifier model, string file)
{
    using var predictor = OnnxPredictor.Load(file);
    using var pixels = test.Images.to_type(ScalarType.Float32).div(255).contiguous();
    var predictions = predictor.Predict(pixels.data<float>().ToArray(), (int)test.Count, topK: 1);
    long[] labels = test.Labels.data<long>().ToArray();
    double accuracy = predictions.Select((p, i) => p.ClassIndex == labels[i] ? 1.0 : 0.0).Average();
    rows.Add(new Row(name, model.parameters().Sum(p => p.numel()), FlopCounter.CountFlops(model, 1, 28, 28), new FileInfo(file).Length, accuracy));
}

record Row(string Name, long Parameters, long Flops, long Bytes, double Accuracy);
