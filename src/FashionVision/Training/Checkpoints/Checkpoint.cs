using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using FashionVision.Data;
using FashionVision.IO;
using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>What a checkpoint says about itself (the <c>manifest.json</c> entry).</summary>
public sealed record CheckpointManifest
{
    /// <summary>The format identifier, <c>fashionvision-checkpoint</c>.</summary>
    public string Format { get; init; } = Checkpoint.FormatName;

    /// <summary>The format version.</summary>
    public int Version { get; init; } = Checkpoint.FormatVersion;

    /// <summary>When it was written (UTC).</summary>
    public DateTime CreatedUtc { get; init; }

    /// <summary>Epochs completed when it was written.</summary>
    public int Epoch { get; init; }

    /// <summary>Optimizer steps taken when it was written.</summary>
    public long GlobalStep { get; init; }

    /// <summary>The CLR type of the model.</summary>
    public string ModelType { get; init; } = "";

    /// <summary>The zoo name of the model, when known.</summary>
    public string? ModelName { get; init; }

    /// <summary>The model's options as JSON, when known.</summary>
    public string? ModelOptionsJson { get; init; }

    /// <summary>The class names, in class-index order.</summary>
    public IReadOnlyList<string> ClassNames { get; init; } = Array.Empty<string>();

    /// <summary>The input the model expects: channels, height, width.</summary>
    public int[] InputShape { get; init; } = Array.Empty<int>();

    /// <summary>The per-channel normalisation the model was trained with, or null (inputs in [0, 1]).</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>The optimizer's type name, or null when the checkpoint has no optimizer state.</summary>
    public string? OptimizerType { get; init; }

    /// <summary>The schedule's description.</summary>
    public string? Scheduler { get; init; }

    /// <summary>The schedule's state.</summary>
    public Dictionary<string, double>? SchedulerState { get; init; }

    /// <summary>The <see cref="TimeBudget"/>'s state (window and time used) in checkpoints of older versions, which kept it here; the budget's state is its callback's (<see cref="Callbacks"/>, key <c>TimeBudget</c>), and a resume reads this only when that is absent. Null otherwise.</summary>
    public Dictionary<string, double>? TimeBudgetState { get; init; }

    /// <summary>True when an averaged (EMA) copy of the weights is stored; predictors use it.</summary>
    public bool HasAveragedWeights { get; init; }

    /// <summary>The best epoch so far, or null.</summary>
    public int? BestEpoch { get; init; }

    /// <summary>The best monitored metric so far, or null.</summary>
    public double? BestMetric { get; init; }

    /// <summary>The history up to this checkpoint.</summary>
    public IReadOnlyList<EpochMetrics> History { get; init; } = Array.Empty<EpochMetrics>();

    /// <summary>The settings that shaped the run that wrote it; a resumed run must match them (null in checkpoints of older versions).</summary>
    public RunSettings? RunSettings { get; init; }

    /// <summary>Callback states by callback key: numbers and strings (tensor sets are separate entries).</summary>
    public Dictionary<string, CallbackStateManifest> Callbacks { get; init; } = new();

    /// <summary>
    /// The precision the run computed in (<see cref="Trainer.ResolvedPrecision"/>: what <see cref="Models.ComputePrecision.Auto"/>
    /// resolved to on the machine that trained it); null in checkpoints of older versions.
    /// </summary>
    public Models.ComputePrecision? Precision { get; init; }

    /// <summary>Why the run computed in <see cref="Precision"/> (<see cref="Trainer.PrecisionReason"/>); null in checkpoints of older versions.</summary>
    public string? PrecisionReason { get; init; }

    /// <summary>
    /// The options of the zoo model the manifest names: <see cref="ModelOptionsJson"/> as the Trainer or the CLI wrote it
    /// (width, attention, head, BatchNorm settings, the pruned <see cref="Models.ModelOptions.ChannelWidths"/>; read by
    /// <see cref="Models.ModelOptions.FromJson"/>, whichever spelling wrote them), with the manifest's class count and
    /// input channels; null when it names no model of the zoo.
    /// </summary>
    public Models.ModelOptions? ZooModelOptions()
    {
        if (string.IsNullOrEmpty(ModelName) || !Models.ModelZoo.Contains(ModelName))
            return null;
        var options = ModelOptionsJson is { Length: > 0 } json
            ? Models.ModelOptions.FromJson(json)
            : Models.ModelZoo.DefaultOptions(ModelName);
        return options with
        {
            InputChannels = InputShape.Length == 3 ? InputShape[0] : options.InputChannels,
            NumClasses = ClassNames.Count > 0 ? ClassNames.Count : options.NumClasses,
            Seed = null,
        };
    }
}

/// <summary>The JSON part of one callback's state.</summary>
/// <param name="Values">Named numbers.</param>
/// <param name="Strings">Named strings.</param>
/// <param name="TensorSets">Names of the tensor sets stored as entries <c>callbacks/&lt;key&gt;/&lt;name&gt;.sd</c>.</param>
public sealed record CallbackStateManifest(Dictionary<string, double> Values, Dictionary<string, string> Strings, string[] TensorSets);

/// <summary>
/// A training checkpoint: one zip file (stored, not compressed) holding <c>manifest.json</c>, <c>model.sd</c> (the state
/// dict), optionally <c>ema.sd</c> (the one copy of the averaged weights), <c>optimizer.bin</c>, <c>rng.sd</c> (torch's global
/// generator and the augmentation generator) and <c>callbacks/&lt;key&gt;/&lt;name&gt;.sd</c>. Written to a temporary file and
/// renamed, so a crash never leaves a half-written checkpoint under the final name. A <see cref="Trainer"/>'s state goes in
/// and comes back out through <c>TrainerCheckpoints</c> beside this file. See docs/recipes.md for the layout.
/// </summary>
public sealed class Checkpoint
{
    /// <summary>The format identifier in the manifest.</summary>
    public const string FormatName = "fashionvision-checkpoint";

    /// <summary>The format version this library writes and reads.</summary>
    public const int FormatVersion = 1;

    internal const string ManifestEntry = "manifest.json";
    internal const string ModelEntry = "model.sd";
    internal const string EmaEntry = "ema.sd";
    internal const string OptimizerEntry = "optimizer.bin";
    internal const string RngEntry = "rng.sd";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    internal static readonly JsonSerializerOptions CompactJson = new()
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    internal Checkpoint(CheckpointManifest manifest, Dictionary<string, byte[]> entries, string? path = null)
    {
        Manifest = manifest;
        Entries = entries;
        Path = path;
    }

    /// <summary>The manifest.</summary>
    public CheckpointManifest Manifest { get; }

    /// <summary>The file it was read from, or null.</summary>
    public string? Path { get; }

    internal Dictionary<string, byte[]> Entries { get; }

    /// <summary>Writes the checkpoint atomically to <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteEntry(zip, ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(Manifest, Json));
            foreach (var (name, bytes) in Entries)
                WriteEntry(zip, name, bytes);
        });
    }

    private static void WriteEntry(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var s = entry.Open();
        s.Write(bytes);
    }

    /// <summary>Reads a checkpoint.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">The file is not a readable checkpoint.</exception>
    public static Checkpoint Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The checkpoint '{path}' does not exist.", path);
        var entries = new Dictionary<string, byte[]>();
        CheckpointManifest? manifest;
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (entry.Length > int.MaxValue)
                    throw new CheckpointFormatException(path, $"the entry '{entry.FullName}' is too large.");
                using var s = entry.Open();
                using var memory = new MemoryStream((int)entry.Length);
                s.CopyTo(memory);
                entries[entry.FullName] = memory.ToArray();
            }
            if (!entries.Remove(ManifestEntry, out var manifestBytes))
                throw new CheckpointFormatException(path, "it has no manifest.json.");
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(manifestBytes, Json);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or IOException and not FileNotFoundException)
        {
            throw new CheckpointFormatException(path, e.Message, e);
        }
        if (manifest is null || manifest.Format != FormatName)
            throw new CheckpointFormatException(path, "its manifest does not identify a FashionVision checkpoint.");
        if (manifest.Version > FormatVersion)
            throw new CheckpointFormatException(path, $"it has format version {manifest.Version}; this library reads up to {FormatVersion}.");
        if (!entries.ContainsKey(ModelEntry))
            throw new CheckpointFormatException(path, "it has no model weights (model.sd).");
        return new Checkpoint(manifest, entries, path);
    }

    /// <summary>Reads only the manifest of a checkpoint.</summary>
    public static CheckpointManifest ReadManifest(string path) => Load(path).Manifest;

    /// <summary>True when the checkpoint holds optimizer state (a resumable training checkpoint).</summary>
    public bool HasOptimizerState => Entries.ContainsKey(OptimizerEntry);

    /// <summary>
    /// Copies the weights into <paramref name="model"/> (which must be the same architecture with the same class count).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="preferAveraged">Use the EMA weights when the checkpoint has them (for inference).</param>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the model; the message lists the differences.</exception>
    public void LoadWeightsInto(nn.Module model, bool preferAveraged = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        string entry = preferAveraged && Entries.ContainsKey(EmaEntry) ? EmaEntry : ModelEntry;
        var tensors = ReadTensors(entry);
        try
        {
            string hint = $"The checkpoint was trained as {Manifest.ModelName ?? Manifest.ModelType} with {Manifest.ClassNames.Count} classes" +
                          (model is Models.ImageClassifier ic ? $"; the model is {model.GetType().Name} with {ic.NumClasses} classes. " : ". ");
            if (model is Models.ImageClassifier c && Manifest.ClassNames.Count > 0 && c.NumClasses != Manifest.ClassNames.Count)
                throw new CheckpointMismatchException(
                    $"The checkpoint '{Path}' has {Manifest.ClassNames.Count} classes but the model predicts {c.NumClasses}. {hint}",
                    Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
            StateDictionaryFormat.CopyInto(model, tensors, Path is null ? "the checkpoint" : $"'{Path}'", hint);
        }
        finally
        {
            foreach (var t in tensors.Values)
                t.Dispose();
        }
    }

    /// <summary>
    /// The <see cref="ModelOptions"/> the checkpoint's model was built with: those stored in the manifest (preprocessing
    /// included), else the zoo model's defaults, with the manifest's input channels and class count and no seed.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The manifest names no model of the <see cref="ModelZoo"/>.</exception>
    public ModelOptions ZooModelOptions()
    {
        string where = Path ?? "(memory)";
        if (string.IsNullOrEmpty(Manifest.ModelName) || !ModelZoo.Contains(Manifest.ModelName))
            throw new CheckpointFormatException(where, Manifest.ModelName is null
                ? "it does not name a zoo model (TrainerOptions.ModelName); build the model yourself and call LoadWeightsInto."
                : $"it names the model '{Manifest.ModelName}', which the zoo does not know (known: {string.Join(", ", ModelZoo.Names)}).");
        try
        {
            return Manifest.ZooModelOptions()!;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(where, $"its model options are not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// Rebuilds the <see cref="ModelZoo"/> model the checkpoint names (<see cref="ZooModelOptions"/>, so with its
    /// preprocessing) and loads its weights (the averaged ones when present and <paramref name="preferAveraged"/>).
    /// </summary>
    /// <param name="preferAveraged">Use the EMA weights when the checkpoint has them (for inference).</param>
    /// <returns>The model on the CPU, in eval mode.</returns>
    /// <exception cref="CheckpointFormatException">The manifest names no zoo model.</exception>
    /// <exception cref="CheckpointMismatchException">The weights do not fit the rebuilt model.</exception>
    public ImageClassifier CreateZooModel(bool preferAveraged = true)
    {
        var model = ModelZoo.Create(Manifest.ModelName!, ZooModelOptions());
        try
        {
            LoadWeightsInto(model, preferAveraged);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    internal Dictionary<string, Tensor> ReadTensors(string entry)
    {
        if (!Entries.TryGetValue(entry, out var bytes))
            throw new CheckpointFormatException(Path ?? "(memory)", $"it has no entry '{entry}'.");
        try
        {
            return StateDictionaryFormat.FromBytes(bytes);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ArgumentException)
        {
            throw new CheckpointFormatException(Path ?? "(memory)", $"the entry '{entry}' is damaged: {e.Message}", e);
        }
    }
}
