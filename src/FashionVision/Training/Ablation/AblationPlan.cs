using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace FashionVision.Training;

/// <summary>One change of an ablation, applied on top of all the changes before it.</summary>
/// <param name="Name">The row label (e.g. <c>+ OneCycle</c>).</param>
/// <param name="Apply">Turns the previous step's settings into this step's.</param>
/// <param name="Description">What changes, for the table (e.g. <c>scheduler.kind = OneCycle</c>); null = none.</param>
public sealed record AblationStep(string Name, Func<RunSpec, RunSpec> Apply, string? Description = null);

/// <summary>
/// An ablation: a baseline, an ordered list of changes each trained on top of all earlier ones (cumulative), and the seeds
/// every step is trained with. Build one in code, or read a JSON plan (<see cref="Parse"/>, <see cref="Load"/>).
/// </summary>
/// <example>
/// A JSON plan: <c>base</c> is a JSON merge patch (RFC 7386) over <see cref="DefaultBase"/>, in the spelling of
/// <see cref="RunSpec"/>; each step's <c>set</c> is a merge patch over the settings of the step before it.
/// <code>
/// {
///   "name": "fast-cnn, short schedule",
///   "dataset": "fashion-mnist", "trainImages": 10000, "testImages": 2000,
///   "seeds": [0, 1],
///   "base": { "model": { "name": "fast-cnn" }, "training": { "epochs": 2, "optimizer": { "learningRate": 0.003 } } },
///   "steps": [
///     { "name": "+ augmentation", "set": { "training": { "augmentation": "basic" } } },
///     { "name": "+ OneCycle", "set": { "training": { "scheduler": { "kind": "OneCycle", "interval": "Batch" } } } },
///     { "name": "+ label smoothing", "set": { "training": { "loss": { "labelSmoothing": 0.1 } } } }
///   ]
/// }
/// </code>
/// </example>
public sealed record AblationPlan
{
    /// <summary>How plan files are read: as <see cref="RunSpec.Json"/> (camelCase, case-insensitive, enums by name, comments and trailing commas allowed, unknown properties rejected).</summary>
    public static JsonSerializerOptions Json => RunSpec.Json;

    /// <summary>
    /// The settings a plan's <c>base</c> patches: <c>fast-cnn</c>, 2 epochs of batch 128, AdamW (lr 1e-3), a constant
    /// learning rate, cross-entropy, no augmentation, float32, trained on all the given images (no validation hold-out).
    /// </summary>
    public static RunSpec DefaultBase { get; } = new()
    {
        Data = new DataSpec { ValidationSplit = 0 },
        Model = new ModelSpec { Name = Models.ModelZoo.FastCnnName },
        Training = new TrainingSpec
        {
            Epochs = 2,
            Precision = Models.ComputePrecision.Float32,
            Scheduler = new SchedulerOptions(),
        },
        Evaluation = new EvaluationSpec { MistakeCount = 0 },
    };

    /// <summary>The ablation's title (default "ablation").</summary>
    public string Name { get; init; } = "ablation";

    /// <summary>The dataset the CLI loads (default <c>fashion-mnist</c>); the runner itself takes datasets.</summary>
    public string Dataset { get; init; } = "fashion-mnist";

    /// <summary>Train on only the first N training images (null = all), for the CLI.</summary>
    public int? TrainImages { get; init; }

    /// <summary>Evaluate on only the first N test images (null = all), for the CLI.</summary>
    public int? TestImages { get; init; }

    /// <summary>The seeds every step is trained with (default one seed, 0); several give mean ± spread.</summary>
    public IReadOnlyList<long> Seeds { get; init; } = [0];

    /// <summary>The baseline.</summary>
    public RunSpec Base { get; init; } = DefaultBase;

    /// <summary>The changes, in order; step i trains with all changes up to i.</summary>
    public IReadOnlyList<AblationStep> Steps { get; init; } = [];

    /// <summary>The settings of every row: the baseline first, then each cumulative step.</summary>
    /// <exception cref="ArgumentException">A step produced invalid settings (the message names the step).</exception>
    public IReadOnlyList<(string Name, string? Description, RunSpec Settings)> CumulativeSettings()
    {
        var rows = new List<(string, string?, RunSpec)> { ("baseline", null, Base) };
        var current = Base;
        foreach (var step in Steps)
        {
            try
            {
                current = step.Apply(current) ?? throw new ArgumentException("the change returned no settings");
            }
            catch (Exception e) when (e is ArgumentException or JsonException or InvalidOperationException)
            {
                throw new ArgumentException($"Ablation step '{step.Name}': {e.Message}", nameof(Steps), e);
            }
            rows.Add((step.Name, step.Description, current));
        }
        return rows;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first problem (seeds, names, or a step's settings).</summary>
    public void Validate()
    {
        if (Seeds is null || Seeds.Count == 0)
            throw new ArgumentException("An ablation plan needs at least one seed.", nameof(Seeds));
        if (Seeds.Distinct().Count() != Seeds.Count)
            throw new ArgumentException("The ablation plan's seeds repeat.", nameof(Seeds));
        if (TrainImages is < 1 || TestImages is < 1)
            throw new ArgumentException("trainImages and testImages must be positive when given.", TrainImages is < 1 ? nameof(TrainImages) : nameof(TestImages));
        foreach (var (name, _, settings) in CumulativeSettings())
        {
            try
            {
                settings.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Ablation step '{name}': {e.Message}", nameof(Steps), e);
            }
        }
    }

    /// <summary>Reads a plan from a JSON file (see the example on <see cref="AblationPlan"/>).</summary>
    /// <param name="path">The plan file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid plan; the message names the file and the problem.</exception>
    public static AblationPlan Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No such ablation plan: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads a plan from JSON text.</summary>
    /// <param name="json">The plan.</param>
    /// <param name="source">The file name (or other origin) that error messages name.</param>
    /// <exception cref="InvalidDataException">The text is not a valid plan; the message names <paramref name="source"/> and the problem.</exception>
    public static AblationPlan Parse(string json, string source = "ablation plan")
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new InvalidDataException("the plan must be a JSON object");
            var file = root.Deserialize<PlanFile>(Json) ?? throw new InvalidDataException("the plan is empty");
            var steps = new List<AblationStep>();
            foreach (var (step, index) in (file.Steps ?? []).Select((s, i) => (s, i)))
            {
                if (string.IsNullOrWhiteSpace(step.Name))
                    throw new InvalidDataException($"step {index + 1} has no name");
                if (step.Set is not { Count: > 0 } patch)
                    throw new InvalidDataException($"step '{step.Name}' has no \"set\" object of changes");
                var frozen = patch.DeepClone().AsObject();
                steps.Add(new AblationStep(step.Name, settings => settings.Patch(frozen), JsonMergePatch.Describe(frozen)));
            }
            var plan = new AblationPlan
            {
                Name = file.Name ?? "ablation",
                Dataset = file.Dataset ?? "fashion-mnist",
                TrainImages = file.TrainImages,
                TestImages = file.TestImages,
                Seeds = file.Seeds ?? [0],
                Base = file.Base is { } basePatch ? DefaultBase.Patch(basePatch) : DefaultBase,
                Steps = steps,
            };
            plan.Validate();
            return plan;
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"{source}: {e.Message}", e);
        }
    }

    /// <summary>The plan file as written; steps stay JSON until they are applied.</summary>
    private sealed record PlanFile
    {
        public string? Name { get; init; }
        public string? Dataset { get; init; }
        public int? TrainImages { get; init; }
        public int? TestImages { get; init; }
        public long[]? Seeds { get; init; }
        public JsonObject? Base { get; init; }
        public StepFile[]? Steps { get; init; }
    }

    private sealed record StepFile
    {
        public string? Name { get; init; }
        public JsonObject? Set { get; init; }
    }
}
