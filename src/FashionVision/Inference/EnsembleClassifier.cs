using FashionVision.Models;
using FashionVision.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Inference;

/// <summary>
/// An ensemble: several classifiers of the same classes run on the same input, their predictions averaged
/// (<see cref="PredictionAveraging"/>, the mean of the softmax probabilities by default). Its forward pass returns logits
/// whose softmax is the averaged prediction, so it goes wherever one model goes: <c>Evaluator.Evaluate</c>,
/// <see cref="Predictor"/>, <see cref="TtaClassifier"/>, ONNX export.
/// </summary>
/// <example>
/// <code>
/// using var ensemble = EnsembleClassifier.FromCheckpoints(["run1/best.ckpt", "run2/best.ckpt"]);
/// var result = Evaluator.Evaluate(ensemble, test);       // members normalise their own inputs: no Normalization here
/// </code>
/// </example>
/// <remarks>
/// The members are registered submodules (<c>members.0</c>, <c>members.1</c>, …): the ensemble owns them, and moving,
/// switching mode and disposing it do the same to them. Every member must take the same input; members trained with
/// different input normalisations normalise their own inputs when loaded with <see cref="FromCheckpoints"/>.
/// </remarks>
public sealed class EnsembleClassifier : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> members;

    /// <summary>Creates an ensemble of <paramref name="models"/>.</summary>
    /// <param name="models">At least one classifier; all take the same input and predict the same classes.</param>
    /// <param name="averaging">How the members' predictions are combined.</param>
    /// <exception cref="ArgumentException">No members, a null member, or an undefined averaging.</exception>
    public EnsembleClassifier(IEnumerable<nn.Module<Tensor, Tensor>> models, PredictionAveraging averaging = PredictionAveraging.Probabilities)
        : base(nameof(EnsembleClassifier))
    {
        ArgumentNullException.ThrowIfNull(models);
        var list = models.ToArray();
        if (list.Length == 0)
            throw new ArgumentException("An ensemble needs at least one model.", nameof(models));
        if (list.Any(m => m is null))
            throw new ArgumentException("An ensemble member is null.", nameof(models));
        if (!Enum.IsDefined(averaging))
            throw new ArgumentOutOfRangeException(nameof(averaging), averaging, "Unknown averaging.");
        members = nn.ModuleList(list);
        Averaging = averaging;
        RegisterComponents();
    }

    /// <summary>The members, in order.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Members => members.ToList();

    /// <summary>How the members' predictions are combined.</summary>
    public PredictionAveraging Averaging { get; }

    /// <summary>The manifests of the checkpoints the members were loaded from (empty for an ensemble built from modules).</summary>
    public IReadOnlyList<CheckpointManifest> Manifests { get; private init; } = [];

    /// <summary>
    /// Loads an ensemble of checkpoints written by the <see cref="Trainer"/> for <see cref="ModelZoo"/> models: each model
    /// is rebuilt from its manifest (preprocessing included) with its inference weights, and a member trained on normalised
    /// inputs gets its normalisation folded in (<see cref="InputPreprocessing.Normalization"/>), so the ensemble takes raw
    /// [0, 1] pixels of the checkpoints' common input shape.
    /// </summary>
    /// <param name="paths">At least one checkpoint; all trained on the same classes and input shape.</param>
    /// <param name="averaging">How the members' predictions are combined.</param>
    /// <returns>The ensemble on the CPU, in eval mode, with <see cref="Manifests"/> set.</returns>
    /// <exception cref="ArgumentException">No paths, or checkpoints of different classes or input shapes (the message names them).</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="CheckpointFormatException">A file is not a checkpoint of a zoo model.</exception>
    public static EnsembleClassifier FromCheckpoints(IReadOnlyList<string> paths, PredictionAveraging averaging = PredictionAveraging.Probabilities)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
            throw new ArgumentException("An ensemble needs at least one checkpoint.", nameof(paths));
        var loaded = new List<nn.Module<Tensor, Tensor>>();
        var manifests = new List<CheckpointManifest>();
        try
        {
            foreach (var path in paths)
            {
                var checkpoint = Checkpoint.Load(path);
                var manifest = checkpoint.Manifest;
                if (manifests.Count > 0)
                    RequireSameTask(manifests[0], paths[0], manifest, path);
                var model = checkpoint.CreateZooModel();
                loaded.Add(manifest.Normalization is { } n
                    ? new PreprocessedClassifier(model, InputPreprocessing.Normalization(n.Mean, n.Std), model.InputChannels)
                    : model);
                manifests.Add(manifest);
            }
            var ensemble = new EnsembleClassifier(loaded, averaging) { Manifests = manifests };
            ensemble.eval();
            return ensemble;
        }
        catch
        {
            foreach (var model in loaded)
                model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = members.Select(m => m.call(input)).ToArray();
        return scope.MoveToOuter(outputs.Length == 1 ? outputs[0] : PredictionAverager.Average(stack(outputs), Averaging));
    }

    private static void RequireSameTask(CheckpointManifest first, string firstPath, CheckpointManifest other, string otherPath)
    {
        if (!other.ClassNames.SequenceEqual(first.ClassNames))
            throw new ArgumentException(
                $"The checkpoint '{otherPath}' predicts [{string.Join(", ", other.ClassNames)}] but '{firstPath}' predicts [{string.Join(", ", first.ClassNames)}]; an ensemble's members must share their classes.",
                "paths");
        if (!other.InputShape.SequenceEqual(first.InputShape))
            throw new ArgumentException(
                $"The checkpoint '{otherPath}' takes {string.Join("×", other.InputShape)} images but '{firstPath}' takes {string.Join("×", first.InputShape)}; an ensemble's members must share their input.",
                "paths");
    }
}
