using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.Transforms;
using Spectre.Console;
using TorchSharp;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision train</c>: trains a zoo model on a dataset, evaluates it on the test split, and writes a run folder
/// (checkpoints, metrics.json, plots, a grid of mistakes, report.md).
/// </summary>
internal static class TrainCommand
{
    private static readonly string[] Optimizers = ["adamw", "adam", "sgd"];
    private static readonly string[] Schedulers = ["constant", "step", "cosine", "cosine-restarts", "onecycle", "plateau"];
    private static readonly string[] Losses = ["cross-entropy", "focal", "center", "arcface"];

    public static Command Create(CliContext context)
    {
        var dataset = CommonOptions.Dataset();
        var dataDir = CommonOptions.DataDirectory();
        var model = CommonOptions.Named("--model", "small-cnn", "The architecture", () => ModelZoo.Names, "model", "-m");
        var epochs = CommonOptions.Int("--epochs", 10, "Training epochs");
        var batchSize = CommonOptions.Int("--batch-size", 128, "Images per mini-batch");
        var lr = CommonOptions.Double("--lr", 1e-3, "Peak learning rate");
        var weightDecay = CommonOptions.Double("--weight-decay", 0.01, "Weight decay (kept off BatchNorm and bias parameters)", 0, inclusive: true);
        var optimizer = CommonOptions.Named("--optimizer", "adamw", "The optimizer", () => Optimizers, "optimizer");
        var scheduler = CommonOptions.Named("--scheduler", "onecycle", "The learning-rate schedule, stepped per batch", () => Schedulers, "scheduler");
        var warmup = CommonOptions.Int("--warmup-steps", 0, "Linear warm-up batches before the schedule", minimum: 0);
        var augmentation = CommonOptions.Named("--augmentation", "none", "Augmentation preset (flips are left out for digits)", () => AugmentationPresets.Names, "augmentation preset");
        var loss = CommonOptions.Named("--loss", "cross-entropy", "The loss", () => Losses, "loss");
        var labelSmoothing = CommonOptions.Double("--label-smoothing", 0, "Label smoothing for cross-entropy", 0, inclusive: true, maximum: 0.99);
        var centerWeight = CommonOptions.Double("--center-loss-weight", 0.01, "Center loss: the weight λ of the center term (with --loss center)", 0, inclusive: true);
        var arcFaceMargin = CommonOptions.Double("--arcface-margin", 0.3, "ArcFace: the angular margin in radians (with --loss arcface)", 0, inclusive: true, maximum: 1.5);
        var arcFaceScale = CommonOptions.Double("--arcface-scale", Models.ImageClassifier.DefaultCosineScale, "ArcFace: the scale s of the cosine head's logits (with --loss arcface)");
        var diagnostics = new Option<bool>("--diagnostics")
        {
            Description = "Measure per-layer gradient norms and dead ReLUs every 10 batches; logged per epoch, saved to metrics.json and plotted",
        };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var output = new Option<DirectoryInfo>("--output", "-o")
        {
            Description = "Run folder for checkpoints, metrics.json, plots and report.md",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss"))),
        };
        var resume = new Option<FileInfo?>("--resume") { Description = "Continue from a checkpoint written by an earlier run (last.ckpt)" };
        resume.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is { Exists: false } file)
                result.AddError($"--resume: no such checkpoint '{file.FullName}'.");
        });
        var maxTrain = CommonOptions.OptionalInt("--max-train-images", "Use only the first N training images (quick runs)");
        var maxTest = CommonOptions.OptionalInt("--max-test-images", "Evaluate on only the first N test images");
        var recipe = new Option<string?>("--recipe", "-r")
        {
            Description = $"Train a measured recipe: its dataset, model, epochs and training options (docs/recipes.md) ({string.Join(", ", Recipes.Names)})",
        };
        recipe.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name)
                CommonOptions.RequireKnown(result, name, Recipes.Names, "recipe");
        });
        // What a recipe fixes: giving one of these with --recipe is an error rather than a silent override.
        Option[] fixedByRecipe = [dataset, model, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            centerWeight, arcFaceMargin, arcFaceScale];

        var command = new Command("train", "Train a model, evaluate it on the test split, and write a run folder with metrics, plots and a report.")
        {
            dataset, dataDir, model, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            centerWeight, arcFaceMargin, arcFaceScale, diagnostics, seed, device, output, resume, maxTrain, maxTest, recipe,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(recipe) is { } recipeName)
            {
                if (fixedByRecipe.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } clash)
                    throw new CliException($"--recipe {recipeName} fixes {clash.Name}; leave {clash.Name} out, or train without --recipe.");
                var chosen = Recipes.Get(recipeName, parse.GetResult(seed) is { Implicit: false } ? parse.GetValue(seed) : 0);
                return Run(context, RecipeSettings(chosen, parse.GetValue(dataDir)?.FullName, parse.GetRequiredValue(device),
                    parse.GetRequiredValue(output).FullName, parse.GetValue(resume)?.FullName, parse.GetValue(maxTrain), parse.GetValue(maxTest),
                    parse.GetValue(diagnostics)), chosen);
            }
            var settings = new TrainSettings(
                Dataset: parse.GetRequiredValue(dataset).ToLowerInvariant(),
                DataDirectory: parse.GetValue(dataDir)?.FullName,
                Model: parse.GetRequiredValue(model).ToLowerInvariant(),
                Epochs: parse.GetValue(epochs),
                BatchSize: parse.GetValue(batchSize),
                LearningRate: parse.GetValue(lr),
                WeightDecay: parse.GetValue(weightDecay),
                Optimizer: parse.GetRequiredValue(optimizer).ToLowerInvariant(),
                Scheduler: parse.GetRequiredValue(scheduler).ToLowerInvariant(),
                WarmupSteps: parse.GetValue(warmup),
                Augmentation: parse.GetRequiredValue(augmentation).ToLowerInvariant(),
                Loss: parse.GetRequiredValue(loss).ToLowerInvariant(),
                LabelSmoothing: parse.GetValue(labelSmoothing),
                CenterLossWeight: parse.GetValue(centerWeight),
                ArcFaceMargin: parse.GetValue(arcFaceMargin),
                ArcFaceScale: parse.GetValue(arcFaceScale),
                Diagnostics: parse.GetValue(diagnostics),
                Seed: parse.GetValue(seed),
                Device: parse.GetRequiredValue(device),
                Output: parse.GetRequiredValue(output).FullName,
                Resume: parse.GetValue(resume)?.FullName,
                MaxTrainImages: parse.GetValue(maxTrain),
                MaxTestImages: parse.GetValue(maxTest),
                Recipe: null);
            return Run(context, settings, recipe: null);
        });
        return command;
    }

    /// <summary>The settings a recipe amounts to, as metrics.json records them.</summary>
    private static TrainSettings RecipeSettings(Recipe recipe, string? dataDirectory, string device, string output, string? resume, int? maxTrain, int? maxTest,
        bool diagnostics)
    {
        var o = recipe.Options;
        return new TrainSettings(
            Dataset: recipe.Dataset,
            DataDirectory: dataDirectory,
            Model: o.ModelName ?? ModelZoo.FastCnnName,
            Epochs: o.Epochs,
            BatchSize: o.BatchSize,
            LearningRate: o.Optimizer.LearningRate,
            WeightDecay: o.Optimizer.WeightDecay,
            Optimizer: o.Optimizer.Kind.ToString().ToLowerInvariant(),
            Scheduler: o.Scheduler.Kind.ToString().ToLowerInvariant(),
            WarmupSteps: o.Scheduler.WarmupSteps,
            Augmentation: recipe.AugmentationPreset,
            Loss: o.Loss.Kind == LossKind.CrossEntropy ? "cross-entropy" : o.Loss.Kind.ToString().ToLowerInvariant(),
            LabelSmoothing: o.Loss.LabelSmoothing,
            CenterLossWeight: o.Loss.CenterLossWeight,
            ArcFaceMargin: o.Loss.ArcFaceMargin,
            ArcFaceScale: Models.ImageClassifier.DefaultCosineScale,
            Diagnostics: diagnostics,
            Seed: o.Seed,
            Device: device,
            Output: output,
            Resume: resume,
            MaxTrainImages: maxTrain,
            MaxTestImages: maxTest,
            Recipe: recipe.Name);
    }

    private static int Run(CliContext context, TrainSettings settings, Recipe? recipe)
    {
        var clock = Stopwatch.StartNew();
        var device = CommonOptions.ResolveDevice(settings.Device);
        Directory.CreateDirectory(settings.Output);

        var source = DatasetCatalog.Create(settings.Dataset, CommonOptions.DatasetOptions(settings.DataDirectory is null ? null : new DirectoryInfo(settings.DataDirectory)));
        using var train = RunData.Load(source, DatasetSplit.Train, settings.MaxTrainImages);
        using var test = RunData.Load(source, DatasetSplit.Test, settings.MaxTestImages);
        var (channels, height, width) = train.ImageShape;

        var modelOptions = ModelZoo.DefaultOptions(settings.Model) with { InputChannels = channels, NumClasses = train.NumClasses, Seed = settings.Seed };
        if (settings.Loss == "arcface")
            modelOptions = modelOptions with { Head = HeadKind.Cosine, CosineScale = settings.ArcFaceScale };
        var info = ModelZoo.Describe(settings.Model, modelOptions with { Seed = null });
        if (info.InputHeight != height || info.InputWidth != width)
            throw new CliException($"model {settings.Model} expects {info.InputShape} images; {settings.Dataset} has {channels}×{height}×{width}. Pick a 28×28 model (fashionvision models).");
        using var network = ModelZoo.Create(settings.Model, modelOptions);

        context.Output.WriteLine($"{settings.Dataset}: {train.Count:N0} training and {test.Count:N0} test images; {settings.Model}: {info.ParameterCount:N0} parameters; device {device}");
        // A recipe brings its own training options; otherwise they come from the command line. Either way the run's own
        // settings (device, run folder, resume, the model's zoo identity) go on top.
        var training = recipe?.Options ?? new TrainerOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            Seed = settings.Seed,
            Optimizer = new OptimizerOptions { Kind = ParseOptimizer(settings.Optimizer), LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay },
            Scheduler = SchedulerFor(settings),
            Loss = LossFor(settings),
            Augmentation = settings.Augmentation == "none" ? null : AugmentationPresets.Get(settings.Augmentation, train.NumClasses, flip: settings.Dataset != "mnist"),
        };
        var monitors = settings.Diagnostics ? new RunDiagnostics(new GradientFlowMonitor(), new DeadReluMonitor()) : null;
        var options = training with
        {
            Callbacks = monitors is null ? training.Callbacks : [.. training.Callbacks, monitors.GradientFlow, monitors.DeadRelu],
            DropLast = train.Count > training.BatchSize,
            Device = device,
            CheckpointDirectory = settings.Output,
            ResumeFrom = settings.Resume,
            ModelName = settings.Model,
            ModelOptionsJson = JsonSerializer.Serialize(modelOptions with { Seed = null }, RunFiles.Json),
        };

        TrainingHistory history;
        using (var trainer = new Trainer(network, options with { Progress = new TrainingReporter(context) }))
        {
            history = trainer.Fit(train, validationSet: null, context.CancellationToken);
            var evaluation = Evaluator.Evaluate(network, test, new EvaluatorOptions
            {
                Device = device,
                Normalization = trainer.Normalization,
                MistakeCount = 36,
                HorizontalFlipTta = recipe?.HorizontalFlipTta ?? false,
            });
            clock.Stop();
            var files = RunFiles.Write(settings.Output, settings, info, train, test, history, evaluation, clock.Elapsed, trainer.LastCheckpointPath, monitors);
            context.Output.WriteLine($"test accuracy {evaluation.Accuracy:P2} on {evaluation.Count:N0} images (macro F1 {evaluation.MacroAverage.F1:0.0000}) in {clock.Elapsed.TotalSeconds:0.0}s");
            context.Output.WriteLine($"run folder: {settings.Output}");
            foreach (var file in files)
                context.Output.WriteLine($"  {file}");
        }
        return CliApp.Success;
    }

    private static OptimizerKind ParseOptimizer(string name) => name switch
    {
        "sgd" => OptimizerKind.Sgd,
        "adam" => OptimizerKind.Adam,
        _ => OptimizerKind.AdamW,
    };

    private static SchedulerOptions SchedulerFor(TrainSettings settings) => settings.Scheduler switch
    {
        "constant" => new SchedulerOptions { Kind = SchedulerKind.Constant, WarmupSteps = settings.WarmupSteps, Interval = SchedulerInterval.Batch },
        "step" => new SchedulerOptions { Kind = SchedulerKind.Step, StepSize = Math.Max(1, settings.Epochs / 3), Gamma = 0.1, WarmupSteps = settings.WarmupSteps, Interval = SchedulerInterval.Epoch },
        "cosine" => new SchedulerOptions { Kind = SchedulerKind.Cosine, WarmupSteps = settings.WarmupSteps, Interval = SchedulerInterval.Batch },
        "cosine-restarts" => new SchedulerOptions { Kind = SchedulerKind.CosineWarmRestarts, T0 = Math.Max(1, settings.Epochs / 3), TMult = 2, WarmupSteps = settings.WarmupSteps, Interval = SchedulerInterval.Epoch },
        "plateau" => new SchedulerOptions { Kind = SchedulerKind.ReduceOnPlateau, PlateauPatience = 2, Interval = SchedulerInterval.Epoch },
        _ => new SchedulerOptions { Kind = SchedulerKind.OneCycle, WarmupSteps = settings.WarmupSteps, Interval = SchedulerInterval.Batch },
    };

    private static LossOptions LossFor(TrainSettings settings) => new LossOptions
    {
        Kind = settings.Loss switch
        {
            "focal" => LossKind.Focal,
            "center" => LossKind.Center,
            "arcface" => LossKind.ArcFace,
            _ => LossKind.CrossEntropy,
        },
        LabelSmoothing = settings.LabelSmoothing,
        CenterLossWeight = settings.CenterLossWeight,
        ArcFaceMargin = settings.ArcFaceMargin,
    };

    /// <summary>Per-epoch lines (always, so logs show them) and, on a terminal, a live status of the current epoch.</summary>
    private sealed class TrainingReporter(CliContext context) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value is { EpochCompleted: true, Metrics: { } m })
            {
                string validation = m.ValidationAccuracy is { } va ? $", validation accuracy {va:P2}" : "";
                context.Output.WriteLine($"epoch {m.Epoch}/{value.TotalEpochs}: loss {m.TrainLoss:0.0000}, accuracy {m.TrainAccuracy:P2}{validation}, lr {m.LearningRate:0.######}, {m.Elapsed.TotalSeconds:0.0}s");
            }
            else if (context.IsInteractive)
            {
                context.Console.Markup($"\r[grey]epoch {value.Epoch}/{value.TotalEpochs} batch {value.Batch}/{value.BatchesPerEpoch} loss {value.Loss:0.0000} ({value.Fraction:P0})[/]   ");
                if (value.Batch == value.BatchesPerEpoch)
                    context.Console.Markup("\r" + new string(' ', 80) + "\r");
            }
        }
    }
}

/// <summary>Everything a <c>train</c> run was asked to do, as written into metrics.json.</summary>
internal sealed record TrainSettings(
    string Dataset, string? DataDirectory, string Model, int Epochs, int BatchSize, double LearningRate, double WeightDecay,
    string Optimizer, string Scheduler, int WarmupSteps, string Augmentation, string Loss, double LabelSmoothing,
    double CenterLossWeight, double ArcFaceMargin, double ArcFaceScale, bool Diagnostics, long Seed,
    string Device, string Output, string? Resume, int? MaxTrainImages, int? MaxTestImages, string? Recipe);

/// <summary>The diagnostics callbacks of a <c>train --diagnostics</c> run, read back when the run folder is written.</summary>
internal sealed record RunDiagnostics(GradientFlowMonitor GradientFlow, DeadReluMonitor DeadRelu);
