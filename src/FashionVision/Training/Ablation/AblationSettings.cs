using FashionVision.Models;
using FashionVision.Transforms;

namespace FashionVision.Training;

/// <summary>
/// One configuration of an ablation: the model and everything about its training, as plain data (so a JSON plan can state
/// it and each step can change any part of it). The defaults: <c>fast-cnn</c>, 2 epochs of batch 128, AdamW (lr 1e-3),
/// a constant learning rate, cross-entropy, no augmentation.
/// </summary>
public sealed record AblationSettings
{
    /// <summary>The zoo model (default <c>fast-cnn</c>).</summary>
    public string Model { get; init; } = ModelZoo.FastCnnName;

    /// <summary>Options of the model (null = the model's defaults); channels and classes come from the data, the seed from the run.</summary>
    public ModelOptions? ModelOptions { get; init; }

    /// <summary>Training epochs (default 2).</summary>
    public int Epochs { get; init; } = 2;

    /// <summary>Images per batch (default 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>The optimizer (default AdamW, lr 1e-3, weight decay 0.01).</summary>
    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>The learning-rate schedule (default constant).</summary>
    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>The loss (default cross-entropy).</summary>
    public LossOptions Loss { get; init; } = new();

    /// <summary>An <see cref="AugmentationPresets"/> name (default <c>none</c>).</summary>
    public string Augmentation { get; init; } = "none";

    /// <summary>Let augmentation presets flip images horizontally (default true; false for digits).</summary>
    public bool HorizontalFlips { get; init; } = true;

    /// <summary>Keep an EMA of the weights with this decay (null = off).</summary>
    public double? EmaDecay { get; init; }

    /// <summary>Clip the gradient norm to this value (null = off).</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Evaluate with this test-time augmentation, as <see cref="Inference.TestTimeAugmentation.Parse"/> reads it (e.g. <c>flip</c>, <c>flip,shift1</c>; null = none).</summary>
    public string? Tta { get; init; }

    /// <summary>The trainer options these settings describe, for a run with <paramref name="seed"/> on <paramref name="numClasses"/> classes.</summary>
    /// <param name="numClasses">The class count (CutMix in the <c>strong</c> preset needs it).</param>
    /// <param name="seed">The run's seed.</param>
    /// <exception cref="ArgumentException">An option is out of range, or the model or preset is unknown.</exception>
    public TrainerOptions ToTrainerOptions(int numClasses, long seed)
    {
        if (!ModelZoo.Contains(Model))
            throw new ArgumentException($"Unknown model '{Model}'. Valid names: {string.Join(", ", ModelZoo.Names)}.", nameof(Model));
        var options = new TrainerOptions
        {
            Epochs = Epochs,
            BatchSize = BatchSize,
            Seed = seed,
            Optimizer = Optimizer,
            Scheduler = Scheduler,
            Loss = Loss,
            Augmentation = string.Equals(Augmentation?.Trim(), "none", StringComparison.OrdinalIgnoreCase)
                ? null
                : AugmentationPresets.Get(Augmentation ?? throw new ArgumentNullException(nameof(Augmentation)), numClasses, HorizontalFlips),
            EmaDecay = EmaDecay,
            GradientClipNorm = GradientClipNorm,
        }.WithZooModel(Model, ModelOptions);
        options.Validate();
        return options;
    }
}
