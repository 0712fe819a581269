using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Text.Json;
using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.Transforms;
using FashionVision.Visualization;
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
    private static readonly string[] Precisions = ["float32", "bfloat16"];

    /// <summary>The share of the training images a run holds out for validation unless told otherwise.</summary>
    public const double DefaultValidationSplit = 0.1;

    public static Command Create(CliContext context)
    {
        var dataset = CommonOptions.Dataset();
        var dataDir = CommonOptions.DataDirectory();
        var model = CommonOptions.Named("--model", "small-cnn", "The architecture", () => ModelZoo.Names, "model", "-m");
        var width = new Option<double?>("--width") { Description = "Multiplier of the model's channel widths (e.g. 0.5 for a narrow student; default: the model's own)" };
        width.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } value && !(value > 0 && value <= 64))
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
        var inputSize = CommonOptions.OptionalInt("--input-size", "Resize the images to N×N inside the model (e.g. 224 for resnet18-imagenet, which also turns grey into RGB with ImageNet mean/std)");
        var weights = new Option<FileInfo?>("--weights") { Description = "torchvision resnet18 weights (.safetensors) to start resnet18-imagenet from (the head is replaced)" };
        weights.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is { Exists: false } file)
                result.AddError($"--weights: no such file '{file.FullName}'.");
        });
        var classWeights = new Option<string?>("--class-weights") { Description = "Loss weight per class: one number per class, or class=weight pairs such as Shirt=2,T-shirt/top=1.5" };
        var targeted = new Option<string?>("--targeted-augmentation") { Description = "An augmentation preset for some classes only, PRESET:CLASSES, e.g. standard:Shirt,T-shirt/top" };
        var allowChanged = new Option<bool>("--allow-changed-options")
        {
            Description = "With --resume: continue even if the options differ from the checkpoint's run (the run then differs from an uninterrupted one)",
        };
        var threads = CommonOptions.OptionalInt("--threads", "Intra-op threads while training (default: torch's; with --resume: the checkpoint's); part of what makes a seed reproducible");
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
        var validationSplit = CommonOptions.Double("--validation-split", DefaultValidationSplit,
            "Fraction of the training images held out for validation (stratified by class, chosen by --seed): validation loss and accuracy every epoch, best.ckpt, --early-stopping and the plateau schedule; 0 trains on all of them (a recipe holds out none unless given)",
            0, inclusive: true, maximum: 0.9);
        var earlyStopping = CommonOptions.OptionalInt("--early-stopping", "Stop when the validation loss has not improved for N epochs, and keep the best epoch's weights (needs a validation split)");
        var overfittingThreshold = CommonOptions.Double("--overfitting-threshold", OverfittingMonitor.DefaultThreshold,
            "Warn when the validation loss exceeds the training loss by more than this");
        var tensorboard = new Option<DirectoryInfo?>("--tensorboard")
        {
            Description = "Also log the run for TensorBoard into this folder (tensorboard --logdir DIR): losses, accuracies and learning rate per batch and epoch, confusion matrices, sample and mistake grids",
        };
        var timeBudget = new Option<string?>("--time-budget")
        {
            Description = "Train against the clock: the learning-rate schedule is laid over this wall-clock budget (e.g. 60s, 2m, 1h30m), counted from the start of the process with the test evaluation kept inside it, and the run ends annealed at the deadline; --epochs becomes an upper bound",
        };
        timeBudget.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text)
            {
                try
                {
                    TimeBudget.ParseDuration(text);
                }
                catch (FormatException e)
                {
                    result.AddError($"--time-budget: {e.Message}");
                }
            }
        });
        var precision = CommonOptions.Named("--precision", "float32", "The format convolutions compute in (bfloat16: mixed precision with float32 weights, for models that support it, e.g. fast-cnn)", () => Precisions, "precision");
        var stopAtAccuracy = new Option<double?>("--stop-at-accuracy")
        {
            Description = "Stop at the first epoch whose validation accuracy reaches this value, in (0, 1] (needs a validation split)",
        };
        stopAtAccuracy.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } target && !(target > 0 && target <= 1))
                result.AddError($"--stop-at-accuracy must be in (0, 1], got {target}.");
        });
        var whiten = new Option<bool>("--whiten")
        {
            Description = "Initialise the model's first convolution as a frozen bank of patch-whitening filters computed from the training images (the speedrun recipes' stem)",
        };
        var recipe = new Option<string?>("--recipe", "-r")
        {
            Description = $"Train a measured recipe: its dataset, model, epochs and training options (docs/recipes.md) ({string.Join(", ", Recipes.Names)})",
        };
        recipe.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name)
                CommonOptions.RequireKnown(result, name, Recipes.Names, "recipe");
        });
        // Your own data instead of a named dataset.
        var data = UserData.FolderOption();
        var csv = UserData.CsvOption("--csv", "Your own images as a CSV file: label,pixel1,...,pixelN per row (Kaggle's Fashion-MNIST/MNIST format; header optional)");
        var testCsv = UserData.CsvOption("--test-csv", "The test set for --csv, in the same format");
        var imageSize = UserData.ImageSizeOption();
        var channels = UserData.ChannelsOption();
        var style = UserData.StyleOption();
        var classes = UserData.ClassesOption();
        var skipBadFiles = UserData.SkipBadFilesOption();
        var testSplit = CommonOptions.Double("--test-split", 0.2, "Fraction of your own data held out (stratified, seeded) as the test set when it has no test split", maximum: 0.9);
        Option[] ownDataOptions = [imageSize, channels, style, classes, skipBadFiles, testSplit];

        // What a recipe fixes: giving one of these with --recipe is an error rather than a silent override.
        Option[] fixedByRecipe = [dataset, model, width, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            timeBudget, precision, whiten, inputSize, weights, teacher, temperature, alpha, centerWeight, arcFaceMargin, arcFaceScale];

        var command = new Command("train", "Train a model, evaluate it on the test split, and write a run folder with metrics, plots and a report.")
        {
            dataset, dataDir, model, width, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            centerWeight, arcFaceMargin, arcFaceScale, diagnostics,
            seed, device, output, resume, allowChanged, threads, maxTrain, maxTest, recipe, validationSplit, earlyStopping, overfittingThreshold, tensorboard,
            timeBudget, precision, stopAtAccuracy, whiten, inputSize, weights, classWeights, targeted, teacher, temperature, alpha,
            data, csv, testCsv, imageSize, channels, style, classes, skipBadFiles, testSplit,
        };
        // What every run (recipe or not) takes from the command line besides the training options.
        Workflow WorkflowFrom(ParseResult parse, double defaultSplit) => new(
            parse.GetResult(validationSplit) is { Implicit: false } ? parse.GetValue(validationSplit) : defaultSplit,
            parse.GetValue(earlyStopping), parse.GetValue(overfittingThreshold), parse.GetValue(tensorboard)?.FullName, parse.GetValue(stopAtAccuracy));
        command.SetAction(parse =>
        {
            var ownData = OwnData(parse, data, csv, testCsv, imageSize, channels, style, classes, skipBadFiles, testSplit);
            if (ownData is null && ownDataOptions.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } stray)
                throw new CliException($"{stray.Name} applies to your own data; add --data FOLDER or --csv FILE.");
            if (ownData is not null && new Option[] { dataset, dataDir, recipe }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } builtIn)
                throw new CliException($"{builtIn.Name} names a built-in dataset; leave it out when training on --{(ownData.Kind == UserData.FolderKind ? "data" : "csv")}.");
            if (parse.GetValue(recipe) is { } recipeName)
            {
                if (fixedByRecipe.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } clash)
                    throw new CliException($"--recipe {recipeName} fixes {clash.Name}; leave {clash.Name} out, or train without --recipe.");
                var chosen = Recipes.Get(recipeName, parse.GetResult(seed) is { Implicit: false } ? parse.GetValue(seed) : 0);
                return Run(context, RecipeSettings(chosen, parse.GetValue(dataDir)?.FullName, parse.GetRequiredValue(device),
                    parse.GetRequiredValue(output).FullName, parse.GetValue(resume)?.FullName, parse.GetValue(allowChanged), parse.GetValue(threads),
                    parse.GetValue(maxTrain), parse.GetValue(maxTest), WorkflowFrom(parse, 0), parse.GetValue(diagnostics))
                    with { ClassWeights = parse.GetValue(classWeights), TargetedAugmentation = parse.GetValue(targeted) }, chosen);
            }
            if (parse.GetValue(teacher) is null && new Option[] { temperature, alpha }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } orphan)
                throw new CliException($"{orphan.Name} sets up distillation; give the teacher with --teacher.");
            var settings = new TrainSettings(
                Dataset: ownData is null ? parse.GetRequiredValue(dataset).ToLowerInvariant() : OwnDataName(ownData),
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
                AllowChangedOptions: parse.GetValue(allowChanged),
                Threads: parse.GetValue(threads),
                MaxTrainImages: parse.GetValue(maxTrain),
                MaxTestImages: parse.GetValue(maxTest),
                Recipe: null,
                Workflow: WorkflowFrom(parse, DefaultValidationSplit))
            {
                TimeBudgetSeconds = parse.GetValue(timeBudget) is { } budget ? TimeBudget.ParseDuration(budget).TotalSeconds : null,
                Precision = parse.GetRequiredValue(precision).ToLowerInvariant(),
                WhitenStem = parse.GetValue(whiten),
                InputSize = parse.GetValue(inputSize),
                Weights = parse.GetValue(weights)?.FullName,
                ClassWeights = parse.GetValue(classWeights),
                TargetedAugmentation = parse.GetValue(targeted),
                UserData = ownData,
                Width = parse.GetValue(width),
                Teacher = parse.GetValue(teacher)?.FullName,
                DistillTemperature = parse.GetValue(temperature),
                DistillAlpha = parse.GetValue(alpha),
            };
            return Run(context, settings, recipe: null);
        });
        return command;
    }

    /// <summary>What --data or --csv (and their companions) ask for, or null when neither is given.</summary>
    private static UserDataSettings? OwnData(ParseResult parse, Option<DirectoryInfo?> data, Option<FileInfo?> csv, Option<FileInfo?> testCsv,
        Option<string> imageSize, Option<int> channels, Option<string> style, Option<string?> classes, Option<bool> skipBadFiles, Option<double> testSplit)
    {
        var folder = parse.GetValue(data);
        var csvFile = parse.GetValue(csv);
        var testFile = parse.GetValue(testCsv);
        if (folder is not null && csvFile is not null)
            throw new CliException("give either --data FOLDER or --csv FILE, not both.");
        if (testFile is not null && csvFile is null)
            throw new CliException("--test-csv needs --csv with the training file.");
        if (folder is null && csvFile is null)
            return null;
        if (folder is not null && parse.GetResult(classes) is { Implicit: false })
            throw new CliException("--classes applies to --csv; a folder's classes are its subfolder names.");
        var (width, height, resize) = UserData.ParseSize(parse.GetRequiredValue(imageSize))!.Value;
        return new UserDataSettings(
            Kind: folder is not null ? UserData.FolderKind : UserData.CsvKind,
            Path: (folder?.FullName ?? csvFile!.FullName),
            TestPath: testFile?.FullName,
            Channels: parse.GetValue(channels),
            Height: height,
            Width: width,
            Resize: resize,
            Style: parse.GetRequiredValue(style).ToLowerInvariant(),
            Classes: parse.GetValue(classes),
            SkipBadFiles: parse.GetValue(skipBadFiles),
            TestSplit: parse.GetValue(testSplit));
    }

    private static string OwnDataName(UserDataSettings data) =>
        data.Kind == UserData.FolderKind ? Path.GetFileName(Path.TrimEndingDirectorySeparator(data.Path)) : Path.GetFileNameWithoutExtension(data.Path);

    /// <summary>The training and test sets: the user's own data, or a named dataset's two splits.</summary>
    private static (InMemoryDataset Train, InMemoryDataset Test) LoadData(CliContext context, TrainSettings settings)
    {
        if (settings.UserData is { } own)
            return UserData.LoadTrainTest(UserData.CreateSource(own, context), own, settings.MaxTrainImages, settings.MaxTestImages, settings.Seed, context);
        var source = DatasetCatalog.Create(settings.Dataset, CommonOptions.DatasetOptions(settings.DataDirectory is null ? null : new DirectoryInfo(settings.DataDirectory)));
        var train = RunData.Load(source, DatasetSplit.Train, settings.MaxTrainImages);
        try
        {
            return (train, RunData.Load(source, DatasetSplit.Test, settings.MaxTestImages));
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    /// <summary>The settings a recipe amounts to, as metrics.json records them.</summary>
    private static TrainSettings RecipeSettings(Recipe recipe, string? dataDirectory, string device, string output, string? resume, bool allowChanged,
        int? threads, int? maxTrain, int? maxTest, Workflow workflow, bool diagnostics)
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
            AllowChangedOptions: allowChanged,
            Threads: threads,
            MaxTrainImages: maxTrain,
            MaxTestImages: maxTest,
            Recipe: recipe.Name,
            Workflow: workflow)
        {
            TimeBudgetSeconds = recipe.Budget?.TotalSeconds,
            Precision = o.Precision == ComputePrecision.BFloat16 ? "bfloat16" : "float32",
            WhitenStem = recipe.Initialize is not null,
        };
    }

    private static int Run(CliContext context, TrainSettings settings, Recipe? recipe)
    {
        var clock = Stopwatch.StartNew();
        var device = CommonOptions.ResolveDevice(settings.Device);
        var workflow = settings.Workflow;
        Directory.CreateDirectory(settings.Output);

        var (loadedTrain, loadedTest) = LoadData(context, settings);
        using var test = loadedTest;
        var (train, validation) = RunData.HoldOut(loadedTrain, workflow.ValidationSplit, settings.Seed);
        using var trainOwner = train;
        using var validationOwner = validation;
        var (channels, height, width) = train.ImageShape;

        var registration = ModelZoo.GetRegistration(settings.Model);
        bool sizeFits = registration.InputHeight == height && registration.InputWidth == width;
        // The model's own preprocessing (resnet18-imagenet: ImageNet's) when the data does not fit it or --input-size asks for it.
        var preprocessing = settings.InputSize is int size
            ? (registration.Preprocessing ?? new InputPreprocessing()) with { Size = size }
            : sizeFits ? null : registration.Preprocessing;
        var defaults = ModelZoo.DefaultOptions(settings.Model);
        var modelOptions = defaults with
        {
            InputChannels = channels,
            Width = settings.Width ?? defaults.Width,
            NumClasses = train.NumClasses,
            Seed = settings.Seed,
            Preprocessing = preprocessing,
        };
        if (settings.Loss == "arcface")
            modelOptions = modelOptions with { Head = HeadKind.Cosine, CosineScale = settings.ArcFaceScale };
        var info = ModelZoo.Describe(settings.Model, modelOptions with { Seed = null });
        if (preprocessing?.Size is null && !sizeFits)
            throw new CliException($"model {settings.Model} expects {info.InputShape} images; {settings.Dataset} has {channels}×{height}×{width}. Pick a 28×28 model (fashionvision models) or resize inside the model with --input-size.");
        using var network = ModelZoo.Create(settings.Model, modelOptions);
        if (settings.Weights is { } weightsFile)
            LoadTorchvisionWeights(context, network, settings.Model, weightsFile);
        using var teacher = settings.Teacher is null ? null : LoadTeacher(settings, train);

        string validationNote = validation is null ? "" : $" ({validation.Count:N0} held out for validation)";
        context.Output.WriteLine($"{settings.Dataset}: {train.Count:N0} training{validationNote} and {test.Count:N0} test images; {settings.Model}: {info.ParameterCount:N0} parameters; device {device}");
        if (preprocessing is not null)
            context.Output.WriteLine($"input preprocessing inside the model: {preprocessing}");
        if (teacher is not null)
            context.Output.WriteLine($"distilling from {teacher.Manifest.ModelName} ({settings.Teacher}) at temperature {settings.DistillTemperature}, alpha {settings.DistillAlpha}");
        // A recipe brings its own training options; otherwise they come from the command line. Either way the run's own
        // settings (device, run folder, resume, the model's zoo identity, the validation workflow) go on top.
        var training = recipe?.Options ?? new TrainerOptions
        {
            Epochs = settings.Epochs,
            BatchSize = settings.BatchSize,
            Seed = settings.Seed,
            Optimizer = new OptimizerOptions { Kind = ParseOptimizer(settings.Optimizer), LearningRate = settings.LearningRate, WeightDecay = settings.WeightDecay },
            Scheduler = SchedulerFor(settings),
            Loss = LossFor(settings),
            Augmentation = settings.Augmentation == "none" ? null : AugmentationPresets.Get(settings.Augmentation, train.NumClasses, flip: settings.Dataset != "mnist"),
            Precision = settings.Precision == "bfloat16" ? ComputePrecision.BFloat16 : ComputePrecision.Float32,
            TimeBudget = settings.TimeBudgetSeconds is { } seconds ? new TimeBudget(TimeSpan.FromSeconds(seconds)) : null,
            // The student sees what the teacher was trained to see.
            Teacher = teacher?.Model,
            Normalization = teacher?.Manifest.Normalization,
            Normalize = teacher is null || teacher.Manifest.Normalization is not null,
        };
        if (training.Precision == ComputePrecision.BFloat16 && !network.SupportsBFloat16)
            throw new CliException($"--precision bfloat16: {settings.Model} computes in float32 only (the FastCnn family supports bfloat16).", CliApp.UsageError);
        // The budget counts from process start and keeps back the time of the test evaluation (its views included).
        int testViews = recipe?.TestTimeViews ?? 1;
        if (training.TimeBudget is { } timeBudget)
            training = training with { TimeBudget = timeBudget with { StartedAt = context.StartedAt, ReserveForImages = test.Count * testViews } };
        // A whitened stem is computed from the training images as the trainer will normalise them.
        if (recipe?.Initialize is not null || settings.WhitenStem)
        {
            var normalization = training.Normalize ? training.Normalization ?? train.ComputeStatistics() : null;
            training = training with { Normalization = normalization };
            if (recipe?.Initialize is { } initialize)
                initialize(network, train, normalization);
            else
                ConvInitialization.WhitenFirstConvolution(network, train, normalization);
        }
        var steps = new StepHistory();
        var overfitting = new OverfittingMonitor(workflow.OverfittingThreshold);
        using var tensorboard = workflow.TensorBoard is { } logDirectory ? new TensorBoardLogger(logDirectory) : null;
        TrainerCallback[] monitors = tensorboard is null
            ? [steps, overfitting]
            : [steps, overfitting, tensorboard, new TensorBoardImageLogger(tensorboard, train)];
        var diagnostics = settings.Diagnostics ? new RunDiagnostics(new GradientFlowMonitor(), new DeadReluMonitor()) : null;
        if (diagnostics is not null)
            monitors = [.. monitors, diagnostics.GradientFlow, diagnostics.DeadRelu];
        var display = new TrainingDisplay(context, training.BatchSize);
        var options = WithClassOptions(training, settings, train) with
        {
            DropLast = train.Count > training.BatchSize,
            Device = device,
            CheckpointDirectory = settings.Output,
            ResumeFrom = settings.Resume,
            AllowChangedOptionsOnResume = settings.AllowChangedOptions,
            IntraOpThreads = settings.Threads,
            EarlyStopping = workflow.EarlyStopping is { } patience ? new EarlyStoppingOptions { Patience = patience } : training.EarlyStopping,
            StopAtAccuracy = workflow.StopAtAccuracy ?? training.StopAtAccuracy,
            Callbacks = [.. training.Callbacks, .. monitors],
            Logger = display.Logger,
            Progress = display,
        };
        options = options.WithZooModel(settings.Model, modelOptions);
        RequireValidationWhereNeeded(options, validation);

        using var trainer = new Trainer(network, options);
        TrainingHistory history;
        try
        {
            history = display.Run(options.Epochs, () => trainer.Fit(train, validation, context.CancellationToken));
        }
        catch (ResumeSettingsMismatchException e)
        {
            throw new CliException($"--resume {e.Checkpoint}: the checkpoint's run had other settings ({string.Join("; ", e.Differences)}); " +
                                   "give the options it was trained with, or add --allow-changed-options.", CliApp.UsageError, e);
        }
        // metrics.json records the thread count the run trained with (the option's, the checkpoint's or torch's).
        settings = settings with { Threads = trainer.IntraOpThreads };
        var evaluation = Evaluator.Evaluate(network, test, new EvaluatorOptions
        {
            Device = device,
            Normalization = trainer.Normalization,
            MistakeCount = 36,
            Tta = recipe?.Tta,
        });
        clock.Stop();
        // The checkpoint that holds the evaluated weights: best.ckpt when early stopping put the best epoch's weights back,
        // else last.ckpt (or, for a resumed run with nothing left to train, the checkpoint it resumed from).
        string bestPath = Path.Combine(settings.Output, "best.ckpt");
        string lastPath = Path.Combine(settings.Output, RunFiles.LastCheckpointFile);
        string? checkpoint = options.EarlyStopping is { RestoreBestWeights: true } && validation is not null && File.Exists(bestPath) ? bestPath
            : File.Exists(lastPath) ? lastPath : trainer.LastCheckpointPath;
        var run = new RunOutcome(history, steps.Steps, overfitting.Warnings, evaluation, clock.Elapsed, checkpoint, File.Exists(bestPath) ? bestPath : null, diagnostics);
        var files = RunFiles.Write(settings.Output, settings, info, train, validation, test, run);
        if (tensorboard is not null)
            LogTestResults(tensorboard, test, evaluation);

        context.Output.WriteLine($"test accuracy {evaluation.Accuracy:P2} on {evaluation.Count:N0} images (macro F1 {evaluation.MacroAverage.F1:0.0000}) in {clock.Elapsed.TotalSeconds:0.0}s");
        if (history.BestEpoch is { } bestEpoch && history.Epochs.FirstOrDefault(e => e.Epoch == bestEpoch)?.ValidationAccuracy is { } bestAccuracy)
            context.Output.WriteLine($"best validation epoch {bestEpoch} (accuracy {bestAccuracy:P2}){(history.StopReason is { } reason ? $"; {reason}" : "")}");
        context.Output.WriteLine($"run folder: {settings.Output}");
        foreach (var file in files)
            context.Output.WriteLine($"  {file}");
        if (tensorboard is not null)
            context.Output.WriteLine($"tensorboard: tensorboard --logdir {tensorboard.Writer.LogDirectory}");
        return CliApp.Success;
    }

    /// <summary>The plateau schedule and early stopping watch the validation loss: without a validation set they cannot work, so say so in one line.</summary>
    private static void RequireValidationWhereNeeded(TrainerOptions options, InMemoryDataset? validation)
    {
        if (validation is not null)
            return;
        if (options.Scheduler.Kind == SchedulerKind.ReduceOnPlateau)
            throw new CliException("--scheduler plateau lowers the learning rate when the validation loss stops improving, so it needs validation images: use --validation-split (e.g. 0.1), not 0.", CliApp.UsageError);
        if (options.EarlyStopping is not null)
            throw new CliException("--early-stopping watches the validation loss, so it needs validation images: use --validation-split (e.g. 0.1), not 0.", CliApp.UsageError);
        if (options.StopAtAccuracy is not null)
            throw new CliException("--stop-at-accuracy watches the validation accuracy, so it needs validation images: use --validation-split (e.g. 0.1), not 0.", CliApp.UsageError);
    }

    /// <summary>The test set's results at the run's last step: accuracy, loss, the confusion matrix and the most confident mistakes.</summary>
    private static void LogTestResults(TensorBoardLogger tensorboard, InMemoryDataset test, EvaluationResult evaluation)
    {
        var writer = tensorboard.Writer;
        long step = tensorboard.LastStep;
        writer.AddScalar("accuracy/test", evaluation.Accuracy, step);
        if (evaluation.Loss is { } loss)
            writer.AddScalar("loss/test", loss, step);
        writer.AddConfusionMatrix("confusion_matrix/test", evaluation.ConfusionMatrix, evaluation.ClassNames, step,
            TensorBoardImages.DefaultConfusionMatrixOptions with { Title = $"Test set ({evaluation.Accuracy:P2})" });
        if (RunFiles.RenderMistakes(test, evaluation) is { } mistakes)
            writer.AddPng("mistakes/test", mistakes, step);
        writer.Flush();
    }

    /// <summary>Adds --class-weights to the loss and puts --targeted-augmentation before the run's own augmentation.</summary>
    private static TrainerOptions WithClassOptions(TrainerOptions options, TrainSettings settings, InMemoryDataset train)
    {
        if (settings.ClassWeights is { } weights)
            options = options with { Loss = options.Loss with { ClassWeights = ClassArguments.ClassWeights(weights, train.ClassNames) } };
        if (settings.TargetedAugmentation is { } targeted)
        {
            var classConditional = ClassArguments.TargetedAugmentation(targeted, train.ClassNames, flip: settings.Dataset != "mnist");
            options = options with
            {
                Augmentation = options.Augmentation is { } chain ? new Compose(classConditional, chain) : classConditional,
            };
        }
        return options;
    }

    private static void LoadTorchvisionWeights(CliContext context, ImageClassifier network, string model, string path)
    {
        var inner = network is PreprocessedClassifier wrapper ? wrapper.Inner : network;
        if (inner is not ResNet { Stem: ResNetStem.ImageNet } resnet)
            throw new CliException($"--weights loads torchvision resnet18 weights, which only model resnet18-imagenet takes (not {model}).");
        var loaded = FineTuning.LoadTorchvisionResNet18(resnet, path);
        context.Output.WriteLine($"loaded torchvision weights from {path}: {loaded}");
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
        _ => new LossOptions
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
        },
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
    string Dataset, string? DataDirectory, string Model, int Epochs, int BatchSize, double LearningRate, double WeightDecay,
    string Optimizer, string Scheduler, int WarmupSteps, string Augmentation, string Loss, double LabelSmoothing,
    double CenterLossWeight, double ArcFaceMargin, double ArcFaceScale, bool Diagnostics, long Seed,
    string Device, string Output, string? Resume, bool AllowChangedOptions, int? Threads, int? MaxTrainImages, int? MaxTestImages, string? Recipe, Workflow Workflow)
{
    /// <summary>The wall-clock budget in seconds (--time-budget or the recipe's), or null.</summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary>The convolutions' compute format: float32 or bfloat16.</summary>
    public string Precision { get; init; } = "float32";

    /// <summary>Whether the first convolution was whitened from the training images and frozen.</summary>
    public bool WhitenStem { get; init; }

    /// <summary>--input-size: the side the model resizes its input to, or null.</summary>
    public int? InputSize { get; init; }

    /// <summary>--weights: the torchvision weights the model started from, or null.</summary>
    public string? Weights { get; init; }

    /// <summary>--class-weights as given, or null.</summary>
    public string? ClassWeights { get; init; }

    /// <summary>--targeted-augmentation as given, or null.</summary>
    public string? TargetedAugmentation { get; init; }
    /// <summary>The user's own data (--data or --csv), or null for a named dataset.</summary>
    public UserDataSettings? UserData { get; init; }

    /// <summary>The width multiplier of the model (--width), or null for the model's own.</summary>
    public double? Width { get; init; }

    /// <summary>The checkpoint the student is distilled from (--teacher), or null.</summary>
    public string? Teacher { get; init; }

    /// <summary>The distillation temperature T.</summary>
    public double DistillTemperature { get; init; } = 4;

    /// <summary>The weight α of the teacher's term.</summary>
    public double DistillAlpha { get; init; } = 0.5;
}

/// <summary>How a run validates and reports: the held-out share, early-stopping patience, the overfitting threshold, the TensorBoard folder.</summary>
internal sealed record Workflow(double ValidationSplit, int? EarlyStopping, double OverfittingThreshold, string? TensorBoard, double? StopAtAccuracy = null);

/// <summary>The diagnostics callbacks of a <c>train --diagnostics</c> run, read back when the run folder is written.</summary>
internal sealed record RunDiagnostics(GradientFlowMonitor GradientFlow, DeadReluMonitor DeadRelu);
