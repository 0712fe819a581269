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
using FashionVision.TorchVision.Weights;
using Spectre.Console;
using TorchSharp;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision train</c>: trains a zoo model on a dataset, evaluates it on the test split, and writes a run folder
/// (checkpoints, metrics.json, plots, a grid of mistakes, report.md).
/// </summary>
internal static class TrainCommand
{
    private static readonly Dictionary<string, OptimizerKind> Optimizers = new()
    {
        ["adamw"] = OptimizerKind.AdamW, ["adam"] = OptimizerKind.Adam, ["sgd"] = OptimizerKind.Sgd,
    };
    private static readonly Dictionary<string, SchedulerKind> Schedulers = new()
    {
        ["constant"] = SchedulerKind.Constant, ["step"] = SchedulerKind.Step, ["cosine"] = SchedulerKind.Cosine,
        ["cosine-restarts"] = SchedulerKind.CosineWarmRestarts, ["onecycle"] = SchedulerKind.OneCycle, ["plateau"] = SchedulerKind.ReduceOnPlateau,
    };
    private static readonly Dictionary<string, LossKind> Losses = new()
    {
        ["cross-entropy"] = LossKind.CrossEntropy, ["focal"] = LossKind.Focal, ["center"] = LossKind.Center, ["arcface"] = LossKind.ArcFace,
    };
    private static readonly Dictionary<string, ComputePrecision> Precisions = new()
    {
        ["auto"] = ComputePrecision.Auto, ["float32"] = ComputePrecision.Float32, ["bfloat16"] = ComputePrecision.BFloat16,
    };

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
        var optimizer = CommonOptions.Named("--optimizer", "adamw", "The optimizer", () => Optimizers.Keys.ToArray(), "optimizer");
        var scheduler = CommonOptions.Named("--scheduler", "onecycle", "The learning-rate schedule (the library's defaults for it: SchedulerOptions.For)", () => Schedulers.Keys.ToArray(), "scheduler");
        var warmup = CommonOptions.Int("--warmup-steps", 0, "Linear warm-up batches before the schedule", minimum: 0);
        var augmentation = CommonOptions.Named("--augmentation", "none", "Augmentation preset (flips are left out for digits)", () => AugmentationPresets.Names, "augmentation preset");
        var loss = CommonOptions.Named("--loss", "cross-entropy", "The loss", () => Losses.Keys.ToArray(), "loss");
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
        var weights = new Option<FileInfo?>("--weights") { Description = "A state dict to start from (the head is replaced): torchvision resnet18 weights (.safetensors) for resnet18-imagenet" };
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
        var precision = CommonOptions.Named("--precision", "auto", "The format convolutions compute in: auto (bfloat16 where the CPU or GPU computes it natively and the model supports it, else float32), float32, or bfloat16 (mixed precision with float32 weights, for models that support it, e.g. fast-cnn)", () => Precisions.Keys.ToArray(), "precision");
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

        var spec = new Option<FileInfo?>("--spec")
        {
            Description = "Train exactly the run a spec file describes (spec.json from a run folder, or what --print-spec wrote)",
        };
        spec.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<FileInfo?>() is { Exists: false } file)
                result.AddError($"--spec: no such file '{file.FullName}'.");
        });
        var printSpec = new Option<bool>("--print-spec") { Description = "Print the run's spec as JSON and exit without training (replay it with --spec FILE)" };

        // What a recipe or a spec fixes: giving one of these with --recipe is an error rather than a silent override.
        Option[] fixedByRecipe = [dataset, model, width, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            timeBudget, whiten, inputSize, weights, teacher, temperature, alpha, centerWeight, arcFaceMargin, arcFaceScale];
        // What a spec file fixes besides: everything but the process-level options (device, run folder, resume).
        Option[] fixedBySpec = [.. fixedByRecipe, dataDir, precision, seed, threads, maxTrain, maxTest, validationSplit, earlyStopping, overfittingThreshold,
            tensorboard, stopAtAccuracy, classWeights, targeted, diagnostics, recipe, data, csv, testCsv, imageSize, channels, style, classes, skipBadFiles, testSplit];

        var command = new Command("train", "Train a model, evaluate it on the test split, and write a run folder with metrics, plots and a report.")
        {
            dataset, dataDir, model, width, epochs, batchSize, lr, weightDecay, optimizer, scheduler, warmup, augmentation, loss, labelSmoothing,
            centerWeight, arcFaceMargin, arcFaceScale, diagnostics,
            seed, device, output, resume, allowChanged, threads, maxTrain, maxTest, recipe, validationSplit, earlyStopping, overfittingThreshold, tensorboard,
            timeBudget, precision, stopAtAccuracy, whiten, inputSize, weights, classWeights, targeted, teacher, temperature, alpha,
            data, csv, testCsv, imageSize, channels, style, classes, skipBadFiles, testSplit, spec, printSpec,
        };
        bool Given(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };
        command.SetAction(parse =>
        {
            RunSpec run;
            if (parse.GetValue(spec) is { } specFile)
            {
                if (fixedBySpec.FirstOrDefault(o => Given(parse, o)) is { } clash)
                    throw new CliException($"--spec fixes {clash.Name}; edit the spec file instead (or train without --spec).", CliApp.UsageError);
                try
                {
                    run = RunSpec.Load(specFile.FullName);
                }
                catch (InvalidDataException e)
                {
                    throw new CliException(e.Message, CliApp.UsageError, e);
                }
            }
            else
            {
                var ownData = OwnData(parse, data, csv, testCsv, imageSize, channels, style, classes, skipBadFiles, testSplit);
                if (ownData is null && ownDataOptions.FirstOrDefault(o => Given(parse, o)) is { } stray)
                    throw new CliException($"{stray.Name} applies to your own data; add --data FOLDER or --csv FILE.");
                if (ownData is not null && new Option[] { dataset, dataDir, recipe }.FirstOrDefault(o => Given(parse, o)) is { } builtIn)
                    throw new CliException($"{builtIn.Name} names a built-in dataset; leave it out when training on --{(ownData.Kind == OwnDataKind.Folder ? "data" : "csv")}.");
                if (parse.GetValue(recipe) is { } recipeName)
                {
                    if (fixedByRecipe.FirstOrDefault(o => Given(parse, o)) is { } clash)
                        throw new CliException($"--recipe {recipeName} fixes {clash.Name}; leave {clash.Name} out, or train without --recipe.");
                    run = Recipes.Get(recipeName, Given(parse, seed) ? parse.GetValue(seed) : 0, Precisions[parse.GetRequiredValue(precision)]).Spec;
                    // A recipe trains on all the training images unless told otherwise.
                    run = run with { Data = run.Data with { ValidationSplit = Given(parse, validationSplit) ? parse.GetValue(validationSplit) : run.Data.ValidationSplit } };
                }
                else
                {
                    if (parse.GetValue(teacher) is null && new Option[] { temperature, alpha }.FirstOrDefault(o => Given(parse, o)) is { } orphan)
                        throw new CliException($"{orphan.Name} sets up distillation; give the teacher with --teacher.");
                    run = FromFlags(parse);
                    if (ownData is not null)
                        run = run with { Data = run.Data with { Dataset = OwnDataName(ownData), Own = ownData } };
                }
                // The workflow options every run takes, recipe or not.
                run = run with
                {
                    Data = run.Data with
                    {
                        Directory = parse.GetValue(dataDir)?.FullName ?? run.Data.Directory,
                        MaxTrainImages = parse.GetValue(maxTrain) ?? run.Data.MaxTrainImages,
                        MaxTestImages = parse.GetValue(maxTest) ?? run.Data.MaxTestImages,
                    },
                    Training = run.Training with
                    {
                        Threads = parse.GetValue(threads) ?? run.Training.Threads,
                        EarlyStoppingPatience = parse.GetValue(earlyStopping) ?? run.Training.EarlyStoppingPatience,
                        StopAtAccuracy = parse.GetValue(stopAtAccuracy) ?? run.Training.StopAtAccuracy,
                        OverfittingThreshold = parse.GetValue(overfittingThreshold),
                        ClassWeights = parse.GetValue(classWeights) ?? run.Training.ClassWeights,
                        TargetedAugmentation = parse.GetValue(targeted) ?? run.Training.TargetedAugmentation,
                        Diagnostics = parse.GetValue(diagnostics) || run.Training.Diagnostics,
                    },
                };
            }
            run = run with
            {
                Output = new OutputSpec
                {
                    Folder = parse.GetRequiredValue(output).FullName,
                    TensorBoard = parse.GetValue(tensorboard)?.FullName ?? run.Output.TensorBoard,
                    Resume = parse.GetValue(resume)?.FullName,
                    AllowChangedSpec = parse.GetValue(allowChanged),
                },
            };
            try
            {
                run.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliException(CliErrors.Message(e), CliApp.UsageError, e);
            }
            if (parse.GetValue(printSpec))
            {
                context.Output.WriteLine(run.ToJson());
                return CliApp.Success;
            }
            return Run(context, run, parse.GetRequiredValue(device));
        });
        return command;

        // The spec the training flags describe (no recipe, no spec file).
        RunSpec FromFlags(ParseResult parse)
        {
            int epochCount = parse.GetValue(epochs);
            var lossKind = Losses[parse.GetRequiredValue(loss)];
            var teacherFile = parse.GetValue(teacher);
            return new RunSpec
            {
                Data = new DataSpec
                {
                    Dataset = parse.GetRequiredValue(dataset).ToLowerInvariant(),
                    ValidationSplit = parse.GetValue(validationSplit),
                },
                Model = new ModelSpec
                {
                    Name = parse.GetRequiredValue(model).ToLowerInvariant(),
                    Width = parse.GetValue(width),
                    InputSize = parse.GetValue(inputSize),
                    Weights = parse.GetValue(weights)?.FullName,
                    WhitenStem = parse.GetValue(whiten),
                    CosineScale = lossKind == LossKind.ArcFace ? parse.GetValue(arcFaceScale) : null,
                },
                Training = new TrainingSpec
                {
                    Epochs = epochCount,
                    BatchSize = parse.GetValue(batchSize),
                    Seed = parse.GetValue(seed),
                    Optimizer = new OptimizerOptions { Kind = Optimizers[parse.GetRequiredValue(optimizer)], LearningRate = parse.GetValue(lr), WeightDecay = parse.GetValue(weightDecay) },
                    Scheduler = SchedulerOptions.For(Schedulers[parse.GetRequiredValue(scheduler)], epochCount, parse.GetValue(warmup)),
                    Loss = new LossOptions
                    {
                        Kind = lossKind,
                        LabelSmoothing = parse.GetValue(labelSmoothing),
                        CenterLossWeight = parse.GetValue(centerWeight),
                        ArcFaceMargin = parse.GetValue(arcFaceMargin),
                    },
                    Augmentation = parse.GetRequiredValue(augmentation).ToLowerInvariant(),
                    Precision = Precisions[parse.GetRequiredValue(precision)],
                    TimeBudgetSeconds = parse.GetValue(timeBudget) is { } budget ? TimeBudget.ParseDuration(budget).TotalSeconds : null,
                    Distillation = teacherFile is null ? null : new DistillationSpec
                    {
                        Teacher = teacherFile.FullName,
                        Temperature = parse.GetValue(temperature),
                        Alpha = parse.GetValue(alpha),
                    },
                },
            };
        }
    }

    /// <summary>What --data or --csv (and their companions) ask for, or null when neither is given.</summary>
    private static OwnDataSpec? OwnData(ParseResult parse, Option<DirectoryInfo?> data, Option<FileInfo?> csv, Option<FileInfo?> testCsv,
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
        return new OwnDataSpec
        {
            Kind = folder is not null ? OwnDataKind.Folder : OwnDataKind.Csv,
            Path = folder?.FullName ?? csvFile!.FullName,
            TestPath = testFile?.FullName,
            Channels = parse.GetValue(channels),
            Height = height,
            Width = width,
            Resize = resize,
            Style = parse.GetRequiredValue(style).ToLowerInvariant(),
            Classes = parse.GetValue(classes),
            SkipBadFiles = parse.GetValue(skipBadFiles),
            TestSplit = parse.GetValue(testSplit),
        };
    }

    private static string OwnDataName(OwnDataSpec data) =>
        data.Kind == OwnDataKind.Folder ? Path.GetFileName(Path.TrimEndingDirectorySeparator(data.Path)) : Path.GetFileNameWithoutExtension(data.Path);

    /// <summary>The training and test sets the spec names: your own data, or a named dataset's two splits.</summary>
    private static (InMemoryDataset Train, InMemoryDataset Test) LoadData(CliContext context, RunSpec spec)
    {
        var data = spec.Data;
        if (data.Own is { } own)
        {
            var settings = UserData.Settings(own);
            return UserData.LoadTrainTest(UserData.CreateSource(settings, context), settings, data.MaxTrainImages, data.MaxTestImages, spec.Training.Seed, context);
        }
        var source = DatasetCatalog.Create(data.Dataset, CommonOptions.DatasetOptions(data.Directory is null ? null : new DirectoryInfo(data.Directory)));
        var train = RunData.Load(source, DatasetSplit.Train, data.MaxTrainImages);
        try
        {
            return (train, RunData.Load(source, DatasetSplit.Test, data.MaxTestImages));
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static int Run(CliContext context, RunSpec spec, string deviceName)
    {
        var clock = Stopwatch.StartNew();
        var device = CommonOptions.ResolveDevice(deviceName);
        string folder = spec.Output.Folder!;
        Directory.CreateDirectory(folder);

        var (loadedTrain, loadedTest) = LoadData(context, spec);
        using var train = loadedTrain;
        using var test = loadedTest;
        var display = new TrainingDisplay(context, spec.Training.BatchSize);
        if (spec.Training.Distillation is { } distillation && File.Exists(distillation.Teacher))
            context.Output.WriteLine($"distilling from {Checkpoint.Load(distillation.Teacher).Manifest.ModelName} ({distillation.Teacher}) at temperature {distillation.Temperature}, alpha {distillation.Alpha}");
        TrainingRunResult run;
        try
        {
            run = TrainingRun.Execute(spec, train, test, new TrainingRunOptions
            {
                Device = device,
                BudgetStartedAt = context.StartedAt,
                Logger = display.Logger,
                Progress = display,
                Callbacks = setup => setup.TensorBoard is { } logger ? [new TensorBoardImageLogger(logger, setup.Train)] : [],
                FitWrapper = fit => display.Run(spec.Training.Epochs, fit),
                LoadWeights = (model, path) =>
                {
                    try
                    {
                        context.Output.WriteLine($"loaded torchvision weights from {path}: {PyTorchWeights.Load(model, path)}");
                    }
                    catch (Exception e) when (e is StateDictMismatchException or WeightFileFormatException or SafeTensorsFormatException or InvalidDataException)
                    {
                        throw new CliException($"--weights {path}: {CliErrors.Message(e)}", CliApp.UsageError, e);
                    }
                },
            }, context.CancellationToken);
        }
        catch (ResumeSettingsMismatchException e)
        {
            throw new CliException($"--resume {e.Checkpoint}: the checkpoint's run had other settings ({string.Join("; ", e.Differences)}); " +
                                   "give the options it was trained with, or add --allow-changed-options.", CliApp.UsageError, e);
        }
        catch (ArgumentException e) when (e.ParamName is { } name && (name.StartsWith("Data.", StringComparison.Ordinal) || name.StartsWith("Model.", StringComparison.Ordinal) || name.StartsWith("Training.", StringComparison.Ordinal)))
        {
            throw new CliException(CliErrors.Message(e), CliApp.UsageError, e);
        }
        using var result = run;
        clock.Stop();
        var trainSet = result.TrainSet(train);
        var evaluation = result.Evaluation;
        var history = result.History;
        // The checkpoint that holds the evaluated weights: best.ckpt when early stopping put the best epoch's weights back,
        // else last.ckpt (or, for a resumed run with nothing left to train, the checkpoint it resumed from).
        string bestPath = Path.Combine(folder, "best.ckpt");
        string lastPath = Path.Combine(folder, RunFiles.LastCheckpointFile);
        string? checkpoint = spec.Training.EarlyStoppingPatience is not null && result.Validation is not null && File.Exists(bestPath) ? bestPath
            : File.Exists(lastPath) ? lastPath : result.LastCheckpoint;
        var diagnostics = result.GradientFlow is { } flow && result.DeadRelu is { } relu ? new RunDiagnostics(flow, relu) : null;
        var outcome = new RunOutcome(history, result.Steps, result.OverfittingWarnings, evaluation, clock.Elapsed, checkpoint, File.Exists(bestPath) ? bestPath : null, diagnostics)
        {
            Device = deviceName,
            Threads = result.IntraOpThreads,
            Precision = result.Precision,
            PrecisionReason = result.PrecisionReason,
        };
        var files = RunFiles.Write(folder, spec, result.ModelInfo, trainSet, result.Validation, test, outcome);
        if (result.TensorBoard is { } tensorboard)
            LogTestResults(tensorboard, test, evaluation);

        if (result.Model is PreprocessedClassifier { Preprocessing: var preprocessing })
            context.Output.WriteLine($"input preprocessing inside the model: {preprocessing}");
        string heldOut = result.Validation is null ? "" : $" ({result.Validation.Count:N0} held out for validation)";
        context.Output.WriteLine($"{spec.Data.Dataset}: {trainSet.Count:N0} training{heldOut} and {test.Count:N0} test images; {spec.Model.Name}: {result.ModelInfo.ParameterCount:N0} parameters; device {device}; {result.Precision.ToString().ToLowerInvariant()}");
        context.Output.WriteLine($"test accuracy {evaluation.Accuracy:P2} on {evaluation.Count:N0} images (macro F1 {evaluation.MacroAverage.F1:0.0000}) in {clock.Elapsed.TotalSeconds:0.0}s");
        if (history.BestEpoch is { } bestEpoch && history.Epochs.FirstOrDefault(e => e.Epoch == bestEpoch)?.ValidationAccuracy is { } bestAccuracy)
            context.Output.WriteLine($"best validation epoch {bestEpoch} (accuracy {bestAccuracy:P2}){(history.StopReason is { } reason ? $"; {reason}" : "")}");
        else if (history.StopReason is { } stopped)
            context.Output.WriteLine($"stopped: {stopped}");
        context.Output.WriteLine($"run folder: {folder}");
        foreach (var file in files)
            context.Output.WriteLine($"  {file}");
        if (result.TensorBoard is { } board)
            context.Output.WriteLine($"tensorboard: tensorboard --logdir {board.Writer.LogDirectory}");
        return CliApp.Success;
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
}

/// <summary>The diagnostics callbacks of a <c>train --diagnostics</c> run, read back when the run folder is written.</summary>
internal sealed record RunDiagnostics(GradientFlowMonitor GradientFlow, DeadReluMonitor DeadRelu);
