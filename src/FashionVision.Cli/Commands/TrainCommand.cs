using System.CommandLine;
using System.Diagnostics;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.Transforms;
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
    private static readonly string[] Losses = ["cross-entropy", "focal"];

    public static Command Create(CliContext context)
    {
        var dataset = CommonOptions.Dataset();
        var dataDir = CommonOptions.DataDirectory();
        var model = CommonOptions.Named("--model", "small-cnn", "The architecture", () => ModelZoo.Names, "model", "-m");
        var width = new Option<double?>("--width") { Description = "Multiplier of the model's channel widths (e.g. 0.5 for a narrow student; default: the model's own)" };
        width.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && double.TryParse(result.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out double value) && !(value > 0 && value <= 64))
                result.AddError($"--width must be in (0, 64], not {value}.");
        });
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
        var teacher = new Option<FileInfo?>("--teacher")
        {
            Description = "Distil from this checkpoint (trained on the same dataset): the loss becomes α·T²·KL(teacher ‖ student) + (1 − α)·cross-entropy, and the student uses the teacher's input normalisation",
        };
        teacher.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is { Exists: false } file)
                result.AddError($"--teacher: no such checkpoint '{file.FullName}'.");
        });
        var temperature = CommonOptions.Double("--distill-temperature", 4, "Distillation temperature T (with --teacher)");
        var alpha = CommonOptions.Double("--distill-alpha", 0.5, "Weight α of the teacher's term, in [0, 1] (with --teacher)", 0, inclusive: true, maximum: 1);
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
        Option[] fixedByRecipe = [dataset, model, width, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing, teacher, temperature, alpha];

        var command = new Command("train", "Train a model, evaluate it on the test split, and write a run folder with metrics, plots and a report.")
        {
            dataset, dataDir, model, width, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            teacher, temperature, alpha, seed, device, output, resume, maxTrain, maxTest, recipe,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(recipe) is { } recipeName)
            {
                if (fixedByRecipe.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } clash)
                    throw new CliException($"--recipe {recipeName} fixes {clash.Name}; leave {clash.Name} out, or train without --recipe.");
                var chosen = Recipes.Get(recipeName, parse.GetResult(seed) is { Implicit: false } ? parse.GetValue(seed) : 0);
                return Run(context, RecipeSettings(chosen, parse.GetValue(dataDir)?.FullName, parse.GetRequiredValue(device),
                    parse.GetRequiredValue(output).FullName, parse.GetValue(resume)?.FullName, parse.GetValue(maxTrain), parse.GetValue(maxTest)), chosen);
            }
            if (parse.GetValue(teacher) is null && new Option[] { temperature, alpha }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } orphan)
                throw new CliException($"{orphan.Name} sets up distillation; give the teacher with --teacher.");
            var settings = new TrainSettings(
                Dataset: parse.GetRequiredValue(dataset).ToLowerInvariant(),
                DataDirectory: parse.GetValue(dataDir)?.FullName,
                Model: parse.GetRequiredValue(model).ToLowerInvariant(),
                Width: parse.GetValue(width),
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
                Teacher: parse.GetValue(teacher)?.FullName,
                DistillTemperature: parse.GetValue(temperature),
                DistillAlpha: parse.GetValue(alpha),
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
    private static TrainSettings RecipeSettings(Recipe recipe, string? dataDirectory, string device, string output, string? resume, int? maxTrain, int? maxTest)
    {
        var o = recipe.Options;
        return new TrainSettings(
            Dataset: recipe.Dataset,
            DataDirectory: dataDirectory,
            Model: o.ModelName ?? ModelZoo.FastCnnName,
            Width: null,
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
            Teacher: null,
            DistillTemperature: o.Loss.DistillationTemperature,
            DistillAlpha: o.Loss.DistillationAlpha,
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

        var defaults = ModelZoo.DefaultOptions(settings.Model);
        var modelOptions = defaults with { InputChannels = channels, NumClasses = train.NumClasses, Width = settings.Width ?? defaults.Width, Seed = settings.Seed };
        var info = ModelZoo.Describe(settings.Model, modelOptions with { Seed = null });
        if (info.InputHeight != height || info.InputWidth != width)
            throw new CliException($"model {settings.Model} expects {info.InputShape} images; {settings.Dataset} has {channels}×{height}×{width}. Pick a 28×28 model (fashionvision models).");
        using var network = ModelZoo.Create(settings.Model, modelOptions);
        using var teacher = settings.Teacher is null ? null : LoadTeacher(settings, train);

        context.Output.WriteLine($"{settings.Dataset}: {train.Count:N0} training and {test.Count:N0} test images; {settings.Model}: {info.ParameterCount:N0} parameters; device {device}");
        if (teacher is not null)
            context.Output.WriteLine($"distilling from {teacher.Manifest.ModelName} ({settings.Teacher}) at temperature {settings.DistillTemperature}, alpha {settings.DistillAlpha}");
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
            // The student sees what the teacher was trained to see.
            Teacher = teacher?.Model,
            Normalization = teacher?.Manifest.Normalization,
            Normalize = teacher is null || teacher.Manifest.Normalization is not null,
        };
        var options = (training with
        {
            DropLast = train.Count > training.BatchSize,
            Device = device,
            CheckpointDirectory = settings.Output,
            ResumeFrom = settings.Resume,
        }).WithZooModel(settings.Model, modelOptions);

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
            var files = RunFiles.Write(settings.Output, settings, info, train, test, history, evaluation, clock.Elapsed, trainer.LastCheckpointPath);
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

    private static LossOptions LossFor(TrainSettings settings) => settings switch
    {
        { Teacher: not null } => new LossOptions
        {
            Kind = LossKind.Distillation, LabelSmoothing = settings.LabelSmoothing,
            DistillationTemperature = settings.DistillTemperature, DistillationAlpha = settings.DistillAlpha,
        },
        { Loss: "focal" } => new LossOptions { Kind = LossKind.Focal, LabelSmoothing = settings.LabelSmoothing },
        _ => new LossOptions { Kind = LossKind.CrossEntropy, LabelSmoothing = settings.LabelSmoothing },
    };

    /// <summary>The teacher of a distillation run, checked against the training set.</summary>
    private static Teacher LoadTeacher(TrainSettings settings, InMemoryDataset train)
    {
        if (settings.Loss != "cross-entropy")
            throw new CliException($"--teacher distils with cross-entropy for the true labels; leave out --loss {settings.Loss}.");
        var file = new FileInfo(settings.Teacher!);
        var (model, manifest) = CheckpointModels.Load(file);
        var shape = new[] { train.ImageShape.Channels, train.ImageShape.Height, train.ImageShape.Width };
        if (!manifest.ClassNames.SequenceEqual(train.ClassNames) || (manifest.InputShape.Length == 3 && !manifest.InputShape.SequenceEqual(shape)))
        {
            model.Dispose();
            throw new CliException($"teacher {file.Name} was trained on other classes or image sizes than {settings.Dataset} has.");
        }
        return new Teacher(model, manifest);
    }

    private sealed record Teacher(ImageClassifier Model, CheckpointManifest Manifest) : IDisposable
    {
        public void Dispose() => Model.Dispose();
    }
}

/// <summary>Everything a <c>train</c> run was asked to do, as written into metrics.json.</summary>
internal sealed record TrainSettings(
    string Dataset, string? DataDirectory, string Model, double? Width, int Epochs, int BatchSize, double LearningRate, double WeightDecay,
    string Optimizer, string Scheduler, int WarmupSteps, string Augmentation, string Loss, double LabelSmoothing,
    string? Teacher, double DistillTemperature, double DistillAlpha, long Seed,
    string Device, string Output, string? Resume, int? MaxTrainImages, int? MaxTestImages, string? Recipe);
