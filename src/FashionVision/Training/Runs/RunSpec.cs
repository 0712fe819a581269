using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FashionVision.Inference;
using FashionVision.IO;
using FashionVision.Models;
using FashionVision.Transforms;

namespace FashionVision.Training;

/// <summary>
/// One training run as data: what to train on (<see cref="Data"/>), which network (<see cref="Model"/>), how to train it
/// (<see cref="Training"/>), how to evaluate it (<see cref="Evaluation"/>) and where its files go (<see cref="Output"/>).
/// <see cref="TrainingRun.Execute"/> runs it; the CLI's <c>train</c> flags, a <see cref="Recipe"/>, an ablation step and
/// the speedrun harnesses all produce one, and a run folder keeps it as <c>spec.json</c> so the run can be replayed
/// (<c>fashionvision train --spec spec.json</c>).
/// </summary>
/// <remarks>
/// <para>JSON is camelCase, property names are case-insensitive, comments and trailing commas are allowed, unknown
/// properties and unknown enum names are errors that list the valid choices (<see cref="Parse"/>).</para>
/// <para>Like Lightning's <c>--print_config</c> / <c>--config</c>: the spec is the whole description of a run; the
/// process-level facts (the device, the process start a time budget counts from, loggers) are
/// <see cref="TrainingRunOptions"/>.</para>
/// </remarks>
public sealed record RunSpec
{
    /// <summary>The file name a run folder keeps the spec under.</summary>
    public const string FileName = "spec.json";

    /// <summary>How specs are read and written (see the remarks on <see cref="RunSpec"/>).</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new StrictEnumConverterFactory() },
    };

    /// <summary>The recipe the spec was made from (<see cref="Recipes"/>), or null. Informational: the spec itself says everything.</summary>
    public string? Recipe { get; init; }

    /// <summary>The data.</summary>
    public DataSpec Data { get; init; } = new();

    /// <summary>The network.</summary>
    public ModelSpec Model { get; init; } = new();

    /// <summary>The training.</summary>
    public TrainingSpec Training { get; init; } = new();

    /// <summary>The evaluation on the test set.</summary>
    public EvaluationSpec Evaluation { get; init; } = new();

    /// <summary>The run folder and what is written into it.</summary>
    public OutputSpec Output { get; init; } = new();

    /// <summary>Throws an <see cref="ArgumentException"/> whose parameter name is the path of the setting at fault (e.g. <c>Training.Optimizer.LearningRate</c>).</summary>
    public void Validate()
    {
        Data.Validate();
        Model.Validate();
        Training.Validate(Data);
        Evaluation.Validate();
        if (Training.Distillation is not null && Training.Loss.Kind is not (LossKind.CrossEntropy or LossKind.Distillation))
            throw new ArgumentException($"Training.Distillation (--teacher) distils with cross-entropy for the true labels; leave out Training.Loss.Kind {Training.Loss.Kind} (--loss {Training.Loss.Kind.ToString().ToLowerInvariant()}).", "Training.Loss.Kind");
        if (Training.Loss.Kind == LossKind.Distillation && Training.Distillation is null)
            throw new ArgumentException("Training.Loss.Kind is Distillation but Training.Distillation names no teacher.", "Training.Distillation");
        bool validation = Data.ValidationSplit > 0;
        if (!validation && Training.EarlyStoppingPatience is not null)
            throw new ArgumentException("Training.EarlyStoppingPatience (--early-stopping) watches the validation loss, so it needs validation images: Data.ValidationSplit > 0 (--validation-split, e.g. 0.1).", "Data.ValidationSplit");
        if (!validation && Training.StopAtAccuracy is not null)
            throw new ArgumentException("Training.StopAtAccuracy (--stop-at-accuracy) watches the validation accuracy, so it needs validation images: Data.ValidationSplit > 0 (--validation-split, e.g. 0.1).", "Data.ValidationSplit");
        if (!validation && Training.Scheduler.Kind == SchedulerKind.ReduceOnPlateau)
            throw new ArgumentException("Training.Scheduler.Kind ReduceOnPlateau (--scheduler plateau) lowers the learning rate when the validation loss stops improving, so it needs validation images: Data.ValidationSplit > 0 (--validation-split, e.g. 0.1).", "Data.ValidationSplit");
    }

    /// <summary>The spec as indented JSON (the form <see cref="Parse"/> reads).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Writes the spec atomically to <paramref name="path"/>.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    /// <summary>Reads a spec from JSON text and validates it.</summary>
    /// <param name="json">The spec.</param>
    /// <param name="source">The file name (or other origin) that error messages name.</param>
    /// <exception cref="InvalidDataException">The text is not a valid spec; the message names <paramref name="source"/>, the setting and the problem.</exception>
    public static RunSpec Parse(string json, string source = "run spec")
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var spec = JsonSerializer.Deserialize<RunSpec>(json, Json) ?? throw new InvalidDataException("the spec is empty");
            spec.Validate();
            return spec;
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 1 } path ? $" at {path}" : "";
            throw new InvalidDataException($"{source}{where}: {FirstLine(e.Message)}", e);
        }
        catch (ArgumentException e)
        {
            string message = e.ParamName is { } name ? e.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : e.Message;
            throw new InvalidDataException($"{source}: {FirstLine(message)}", e);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or FormatException)
        {
            throw new InvalidDataException($"{source}: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Reads a spec file (<see cref="Parse"/>).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid spec.</exception>
    public static RunSpec Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No such run spec: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Applies a JSON merge patch (RFC 7386) in the spec's JSON spelling: objects merge, other values replace, null removes
    /// (back to the default). Ablation steps are such patches.
    /// </summary>
    /// <exception cref="JsonException">The patched spec is not valid (an unknown property, a wrong type, an unknown choice).</exception>
    public RunSpec Patch(JsonObject patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
        var node = JsonSerializer.SerializeToNode(this, Json)!.AsObject();
        JsonMergePatch.Apply(node, patch);
        return node.Deserialize<RunSpec>(Json) ?? throw new JsonException("The patch removed the whole spec.");
    }

    /// <summary>
    /// The settings in which this spec differs from <paramref name="saved"/> (e.g. a checkpoint's), by their JSON path,
    /// leaving out <see cref="Output"/> and <see cref="Recipe"/>, which do not change what the run computes.
    /// </summary>
    public IReadOnlyList<RunSettingDifference> DifferencesFrom(RunSpec saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        static JsonObject Comparable(RunSpec spec) =>
            JsonSerializer.SerializeToNode(spec with { Output = new OutputSpec(), Recipe = null }, Json)!.AsObject();
        var differences = new List<RunSettingDifference>();
        JsonMergePatch.Compare(Comparable(this), Comparable(saved), "", differences);
        return differences;
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}

/// <summary>Which images a run trains and is tested on.</summary>
public sealed record DataSpec
{
    /// <summary>A dataset of <c>DatasetCatalog</c> (<c>fashion-mnist</c>, <c>mnist</c>), or the name your own data goes by (default <c>fashion-mnist</c>).</summary>
    public string Dataset { get; init; } = "fashion-mnist";

    /// <summary>Where a named dataset's files are (null: the library's search order: the cache, system folders, a download).</summary>
    public string? Directory { get; init; }

    /// <summary>Your own images (a folder of class folders, or CSV files) instead of a named dataset; null for a named one.</summary>
    public OwnDataSpec? Own { get; init; }

    /// <summary>Train on only the first N training images (null = all).</summary>
    public int? MaxTrainImages { get; init; }

    /// <summary>Evaluate on only the first N test images (null = all).</summary>
    public int? MaxTestImages { get; init; }

    /// <summary>The share of the training images held out for validation (stratified by class, chosen by the seed); 0 = none (default 0.1).</summary>
    public double ValidationSplit { get; init; } = 0.1;

    /// <summary>Whether the images may be mirrored left-right by augmentation (null: yes, except for the digits of <c>mnist</c>).</summary>
    public bool? HorizontalFlips { get; init; }

    /// <summary>Whether mirrored images are still the same class: <see cref="HorizontalFlips"/>, or the dataset's nature.</summary>
    [JsonIgnore]
    public bool FlipsAllowed => HorizontalFlips ?? !string.Equals(Dataset, "mnist", StringComparison.OrdinalIgnoreCase);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Dataset))
            throw new ArgumentException("Data.Dataset is empty.", "Data.Dataset");
        if (MaxTrainImages is < 1)
            throw new ArgumentOutOfRangeException("Data.MaxTrainImages", MaxTrainImages, "Data.MaxTrainImages must be positive when given.");
        if (MaxTestImages is < 1)
            throw new ArgumentOutOfRangeException("Data.MaxTestImages", MaxTestImages, "Data.MaxTestImages must be positive when given.");
        if (!(ValidationSplit >= 0 && ValidationSplit <= 0.9))
            throw new ArgumentOutOfRangeException("Data.ValidationSplit", ValidationSplit, "Data.ValidationSplit must be in [0, 0.9].");
        Own?.Validate();
    }
}

/// <summary>What kind of files <see cref="OwnDataSpec"/> reads.</summary>
public enum OwnDataKind
{
    /// <summary>A folder with one subfolder per class (or <c>train/</c> and <c>test/</c> folders of them).</summary>
    Folder,

    /// <summary>CSV files of <c>label,pixel1,...,pixelN</c> rows.</summary>
    Csv,
}

/// <summary>Your own images: where they are and how they become model inputs.</summary>
public sealed record OwnDataSpec
{
    /// <summary>A folder or CSV files.</summary>
    public OwnDataKind Kind { get; init; }

    /// <summary>The folder, or the training CSV file.</summary>
    public string Path { get; init; } = "";

    /// <summary>The test CSV file (CSV only), or null.</summary>
    public string? TestPath { get; init; }

    /// <summary>Image channels: 1 (grey) or 3 (RGB).</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; } = 28;

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; } = 28;

    /// <summary>Whether folder images are resized to <see cref="Width"/>×<see cref="Height"/> (false: they keep their own, common size).</summary>
    public bool Resize { get; init; } = true;

    /// <summary>How folder images are fitted: <c>raw</c>, <c>fashion-mnist</c> or <c>mnist</c>.</summary>
    public string Style { get; init; } = "raw";

    /// <summary>CSV class names: a comma-separated list or a dataset name; null for the label numbers.</summary>
    public string? Classes { get; init; }

    /// <summary>Leave out unusable files and rows with a warning instead of failing.</summary>
    public bool SkipBadFiles { get; init; }

    /// <summary>The share held out as the test set when the data has no test split (default 0.2).</summary>
    public double TestSplit { get; init; } = 0.2;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
            throw new ArgumentException("Data.Own.Path is empty.", "Data.Own.Path");
        if (Channels is not (1 or 3))
            throw new ArgumentOutOfRangeException("Data.Own.Channels", Channels, "Data.Own.Channels must be 1 or 3.");
        if (Height < 1 || Width < 1)
            throw new ArgumentOutOfRangeException("Data.Own.Height", Height, "Data.Own.Height and Width must be positive.");
        if (!(TestSplit > 0 && TestSplit <= 0.9))
            throw new ArgumentOutOfRangeException("Data.Own.TestSplit", TestSplit, "Data.Own.TestSplit must be in (0, 0.9].");
    }
}

/// <summary>Which network a run trains, and how it starts.</summary>
public sealed record ModelSpec
{
    /// <summary>The <see cref="ModelZoo"/> name (default <c>small-cnn</c>).</summary>
    public string Name { get; init; } = "small-cnn";

    /// <summary>The multiplier of the model's channel widths (null: the model's own).</summary>
    public double? Width { get; init; }

    /// <summary>Resize the images to N×N inside the model (with the model's own preprocessing, e.g. ImageNet's), or null.</summary>
    public int? InputSize { get; init; }

    /// <summary>A state dict to start from (the classifier head is replaced), or null.</summary>
    public string? Weights { get; init; }

    /// <summary>Initialise the first convolution as a frozen bank of patch-whitening filters from the training images.</summary>
    public bool WhitenStem { get; init; }

    /// <summary>A cosine classifier with this logit scale (ArcFace needs one); null for the linear head.</summary>
    public double? CosineScale { get; init; }

    internal void Validate()
    {
        if (!ModelZoo.Contains(Name))
            throw new ArgumentException($"Model.Name: unknown model '{Name}'. Valid names: {string.Join(", ", ModelZoo.Names)}.", "Model.Name");
        if (Width is { } w && !(w > 0 && w <= 64))
            throw new ArgumentOutOfRangeException("Model.Width", Width, "Model.Width must be in (0, 64].");
        if (InputSize is < 8 or > 1024)
            throw new ArgumentOutOfRangeException("Model.InputSize", InputSize, "Model.InputSize must be in [8, 1024].");
        if (CosineScale is { } s && !(s > 0 && double.IsFinite(s)))
            throw new ArgumentOutOfRangeException("Model.CosineScale", CosineScale, "Model.CosineScale must be positive.");
    }
}

/// <summary>How a run trains: the loop's settings in the library's own option records.</summary>
public sealed record TrainingSpec
{
    /// <summary>Epochs (default 10; an upper bound under a <see cref="TimeBudgetSeconds"/>).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per mini-batch (default 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>The one seed: data order, augmentation, dropout and the model's initial weights (default 0).</summary>
    public long Seed { get; init; }

    /// <summary>Intra-op threads (null: torch's; a resumed run: the checkpoint's).</summary>
    public int? Threads { get; init; }

    /// <summary>The optimizer (default AdamW, lr 1e-3, weight decay 0.01).</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>The learning-rate schedule (default OneCycle, stepped per batch).</summary>
    public SchedulerOptions Scheduler { get; init; } = new() { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch };

    /// <summary>The loss (default cross-entropy).</summary>
    public LossOptions Loss { get; init; } = new();

    /// <summary>
    /// The augmentation: <c>none</c> (default), an <see cref="AugmentationPresets"/> name, or steps joined by <c>+</c> from
    /// <c>flip</c> (random horizontal flips), <c>cropN</c> (random crops with N-pixel padding) and preset names, e.g. <c>flip+crop2</c>.
    /// </summary>
    public string Augmentation { get; init; } = "none";

    /// <summary>A preset applied to some classes only, <c>PRESET:CLASSES</c> (e.g. <c>standard:Shirt,T-shirt/top</c>), or null.</summary>
    public string? TargetedAugmentation { get; init; }

    /// <summary>Loss weight per class: one number per class, or <c>class=weight</c> pairs (e.g. <c>Shirt=2</c>), or null.</summary>
    public string? ClassWeights { get; init; }

    /// <summary>The format convolutions compute in (default <see cref="ComputePrecision.Auto"/>: bfloat16 only where the device computes it natively).</summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Auto;

    /// <summary>A wall-clock budget in seconds, counted from the process start with the test evaluation kept inside it; null for none.</summary>
    public double? TimeBudgetSeconds { get; init; }

    /// <summary>Keep an exponential moving average of the weights with this decay, or null.</summary>
    public double? EmaDecay { get; init; }

    /// <summary>Clip the gradient norm to this value, or null.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Stop when the validation loss has not improved for N validations, and keep the best weights; null for none.</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Stop at the first validation whose accuracy reaches this value, or null.</summary>
    public double? StopAtAccuracy { get; init; }

    /// <summary>Distil from a teacher checkpoint, or null.</summary>
    public DistillationSpec? Distillation { get; init; }

    /// <summary>Measure per-layer gradient norms and dead ReLUs while training.</summary>
    public bool Diagnostics { get; init; }

    /// <summary>Warn when the validation loss exceeds the training loss by more than this (default 0.5).</summary>
    public double OverfittingThreshold { get; init; } = OverfittingMonitor.DefaultThreshold;

    /// <summary>The augmentation chain <see cref="Augmentation"/> names, or null for none.</summary>
    /// <exception cref="ArgumentException">The name is unknown.</exception>
    public IBatchTransform? CreateAugmentation(int numClasses, bool flips)
    {
        var steps = new List<IBatchTransform>();
        foreach (string step in Augmentation.ToLowerInvariant().Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (step == "none")
                continue;
            if (step == "flip")
            {
                if (!flips)
                    throw new ArgumentException("Training.Augmentation: 'flip' mirrors images, but this dataset's classes change when mirrored (Data.HorizontalFlips).", "Training.Augmentation");
                steps.Add(new RandomHorizontalFlip());
            }
            else if (step.StartsWith("crop", StringComparison.Ordinal) && int.TryParse(step.AsSpan(4), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int padding) && padding is >= 1 and <= 8)
                steps.Add(new RandomCrop(padding));
            else if (AugmentationPresets.Names.Contains(step, StringComparer.OrdinalIgnoreCase))
                steps.Add(AugmentationPresets.Get(step, numClasses, flips));
            else
                throw new ArgumentException($"Training.Augmentation: unknown augmentation '{step}'. Valid steps: {string.Join(", ", AugmentationPresets.Names)}, flip, crop1 … crop8, joined by '+'.", "Training.Augmentation");
        }
        return steps.Count switch { 0 => null, 1 => steps[0], _ => new Compose(steps.ToArray()) };
    }

    /// <summary>
    /// The trainer options this training amounts to for data with <paramref name="classNames"/>: the augmentation chain
    /// (the targeted one first), the loss with its class weights and distillation, early stopping. The run-level settings
    /// (device, time budget anchor, run folder, resume, logging) are <see cref="TrainingRun"/>'s to add.
    /// </summary>
    /// <param name="classNames">The classes, by which <see cref="ClassWeights"/> and <see cref="TargetedAugmentation"/> name them.</param>
    /// <param name="flips">Whether augmentation may mirror the images (<see cref="DataSpec.FlipsAllowed"/>).</param>
    /// <exception cref="ArgumentException">A setting is invalid (the parameter name is its path).</exception>
    public TrainerOptions ToTrainerOptions(IReadOnlyList<string> classNames, bool flips)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var augmentation = CreateAugmentation(classNames.Count, flips);
        if (TargetedAugmentation is { } targeted)
        {
            var classConditional = ClassSelections.TargetedAugmentation(targeted, classNames, flips);
            augmentation = augmentation is null ? classConditional : new Compose(classConditional, augmentation);
        }
        var loss = Loss;
        if (ClassWeights is { } weights)
            loss = loss with { ClassWeights = ClassSelections.ClassWeights(weights, classNames) };
        if (Distillation is { } distillation)
            loss = loss with { Kind = LossKind.Distillation, DistillationTemperature = distillation.Temperature, DistillationAlpha = distillation.Alpha };
        return new TrainerOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            Seed = Seed,
            IntraOpThreads = Threads,
            Precision = Precision,
            TimeBudget = TimeBudgetSeconds is { } seconds ? new TimeBudget(TimeSpan.FromSeconds(seconds)) : null,
            StopAtAccuracy = StopAtAccuracy,
            Optimizer = Optimizer,
            Scheduler = Scheduler,
            Loss = loss,
            Augmentation = augmentation,
            GradientClipNorm = GradientClipNorm,
            EmaDecay = EmaDecay,
            EarlyStopping = EarlyStoppingPatience is { } patience ? new EarlyStoppingOptions { Patience = patience } : null,
        };
    }

    /// <summary><see cref="ToTrainerOptions(IReadOnlyList{string}, bool)"/> for classes named by their indices.</summary>
    public TrainerOptions ToTrainerOptions(int numClasses, bool flips) =>
        ToTrainerOptions(Enumerable.Range(0, numClasses).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), flips);

    internal void Validate(DataSpec data)
    {
        if (Epochs < 0)
            throw new ArgumentOutOfRangeException("Training.Epochs", Epochs, "Training.Epochs cannot be negative.");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException("Training.BatchSize", BatchSize, "Training.BatchSize must be positive.");
        if (Threads is < 1)
            throw new ArgumentOutOfRangeException("Training.Threads", Threads, "Training.Threads must be positive when given.");
        if (TimeBudgetSeconds is { } seconds && !(seconds > 0 && double.IsFinite(seconds)))
            throw new ArgumentOutOfRangeException("Training.TimeBudgetSeconds", TimeBudgetSeconds, "Training.TimeBudgetSeconds must be positive.");
        if (EarlyStoppingPatience is < 1)
            throw new ArgumentOutOfRangeException("Training.EarlyStoppingPatience", EarlyStoppingPatience, "Training.EarlyStoppingPatience must be positive when given.");
        if (StopAtAccuracy is { } target && !(target > 0 && target <= 1))
            throw new ArgumentOutOfRangeException("Training.StopAtAccuracy", StopAtAccuracy, "Training.StopAtAccuracy must be in (0, 1].");
        CreateAugmentation(10, data.FlipsAllowed);
        Distillation?.Validate();
        // The option records validate themselves with their own paths.
        try
        {
            new TrainerOptions { Epochs = Epochs, BatchSize = BatchSize, Optimizer = Optimizer, Scheduler = Scheduler, Loss = Loss, EmaDecay = EmaDecay, GradientClipNorm = GradientClipNorm }.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, "Training." + e.ParamName, e);
        }
    }
}

/// <summary>Knowledge distillation from a trained teacher.</summary>
public sealed record DistillationSpec
{
    /// <summary>The teacher's checkpoint (trained on the same classes and image size).</summary>
    public string Teacher { get; init; } = "";

    /// <summary>The temperature T (default 4).</summary>
    public double Temperature { get; init; } = 4;

    /// <summary>The weight α of the teacher's term, in [0, 1] (default 0.5).</summary>
    public double Alpha { get; init; } = 0.5;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Teacher))
            throw new ArgumentException("Training.Distillation.Teacher is empty.", "Training.Distillation.Teacher");
        if (!(Temperature > 0 && double.IsFinite(Temperature)))
            throw new ArgumentOutOfRangeException("Training.Distillation.Temperature", Temperature, "Training.Distillation.Temperature must be positive.");
        if (!(Alpha >= 0 && Alpha <= 1))
            throw new ArgumentOutOfRangeException("Training.Distillation.Alpha", Alpha, "Training.Distillation.Alpha must be in [0, 1].");
    }
}

/// <summary>How the trained model is evaluated on the test set.</summary>
public sealed record EvaluationSpec
{
    /// <summary>Test-time augmentation as <see cref="TestTimeAugmentation.Parse"/> reads it: <c>none</c>, <c>flip</c>, <c>shift1</c>, <c>flip,shift1</c> (default <c>none</c>).</summary>
    public string Tta { get; init; } = "none";

    /// <summary>How many of the most confident mistakes are kept for the report (default 36).</summary>
    public int MistakeCount { get; init; } = 36;

    /// <summary>The test-time augmentation <see cref="Tta"/> names.</summary>
    public TestTimeAugmentation CreateTta() => TestTimeAugmentation.Parse(Tta);

    internal void Validate()
    {
        try
        {
            CreateTta();
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"Evaluation.Tta: {e.Message}", "Evaluation.Tta", e);
        }
        if (MistakeCount < 0)
            throw new ArgumentOutOfRangeException("Evaluation.MistakeCount", MistakeCount, "Evaluation.MistakeCount cannot be negative.");
    }
}

/// <summary>Where a run writes its files.</summary>
public sealed record OutputSpec
{
    /// <summary>The run folder (checkpoints, <c>spec.json</c>; the CLI adds metrics, plots and a report), or null to write nothing.</summary>
    public string? Folder { get; init; }

    /// <summary>Also log for TensorBoard into this folder, or null.</summary>
    public string? TensorBoard { get; init; }

    /// <summary>Continue from this checkpoint (a <c>last.ckpt</c> of the same spec), or null.</summary>
    public string? Resume { get; init; }

    /// <summary>With <see cref="Resume"/>: continue even if the checkpoint's run had another spec.</summary>
    public bool AllowChangedSpec { get; init; }
}
