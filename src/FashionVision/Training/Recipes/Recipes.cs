using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Transforms;

namespace FashionVision.Training;

/// <summary>A measured training recipe: how to build the model, the trainer options, and how to evaluate.</summary>
/// <param name="Name">A short name (e.g. <c>fashion-mnist-fast</c>).</param>
/// <param name="Dataset">The dataset it is for (<c>fashion-mnist</c> or <c>mnist</c>).</param>
/// <param name="Description">What it does and what it reached (see docs/recipes.md for the measurements).</param>
/// <param name="CreateModel">Builds the model for (input channels, class count) from the zoo, seeded with the recipe's seed.</param>
/// <param name="Options">The trainer options (seed, epochs, optimizer, schedule, loss, …).</param>
/// <param name="AugmentationPreset">The <see cref="AugmentationPresets"/> name behind <see cref="TrainerOptions.Augmentation"/> (<c>none</c> when it has none).</param>
/// <param name="Tta">The test-time augmentation its evaluation averages over (<see cref="TestTimeAugmentation.None"/> for the plain model).</param>
/// <param name="TargetAccuracy">The test accuracy the recipe is meant to reach, in [0, 1].</param>
public sealed record Recipe(
    string Name,
    string Dataset,
    string Description,
    Func<int, int, ImageClassifier> CreateModel,
    TrainerOptions Options,
    string AugmentationPreset,
    TestTimeAugmentation Tta,
    double TargetAccuracy);

/// <summary>The library's measured recipes, as API so apps and the CLI can run them (results: docs/recipes.md).</summary>
public static class Recipes
{
    private static ImageClassifier CreateFastCnn(int channels, int classes, long seed) =>
        ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { InputChannels = channels, NumClasses = classes, Seed = seed });

    private static readonly (string Name, Func<long, Recipe> Create)[] Factories =
    [
        ("fashion-mnist-fast", FashionMnistFast),
        ("mnist", MnistDigits),
    ];

    /// <summary>The recipes' names.</summary>
    public static IReadOnlyList<string> Names => Factories.Select(f => f.Name).ToArray();

    /// <summary>All recipes, with their measured seed (0).</summary>
    public static IReadOnlyList<Recipe> All => Factories.Select(f => f.Create(0)).ToArray();

    /// <summary>Finds a recipe by name (case-insensitive).</summary>
    /// <param name="name">The recipe's name (see <see cref="Names"/>).</param>
    /// <param name="seed">The seed of the run (the measurements in docs/recipes.md use 0).</param>
    /// <exception cref="ArgumentException">No recipe has that name (the message lists the names).</exception>
    public static Recipe Get(string name, long seed = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var (known, create) in Factories)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
                return create(seed);
        }
        throw new ArgumentException($"Unknown recipe '{name}'. Known recipes: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>
    /// Fashion-MNIST, fast: <see cref="FastCnn"/> (width 24), 6 epochs of batch 128 with AdamW under a per-batch
    /// OneCycle schedule, label smoothing 0.1, inputs normalised with the training statistics, no augmentation and no
    /// test-time augmentation (in so short a schedule both cost accuracy: docs/recipes.md). Target ≥ 93.0% test accuracy
    /// in ≤ 5 minutes on two CPU cores.
    /// </summary>
    /// <param name="seed">The seed of the run.</param>
    public static Recipe FashionMnistFast(long seed = 0) => new(
        "fashion-mnist-fast",
        "fashion-mnist",
        "FastCnn(width 24), 6 epochs, batch 128, AdamW (lr 4e-3, weight decay 0.05 off BN/bias), OneCycle per batch, label smoothing 0.1.",
        (channels, classes) => CreateFastCnn(channels, classes, seed),
        FastCnnOptions(epochs: 6, seed),
        AugmentationPreset: "none",
        Tta: TestTimeAugmentation.None,
        TargetAccuracy: 0.930);

    /// <summary>
    /// MNIST digits: <see cref="FastCnn"/> (width 24), 6 epochs of batch 128 with AdamW under a per-batch OneCycle schedule
    /// and label smoothing 0.1. Target ≥ 99.5% test accuracy. No flip augmentation: mirrored digits are other glyphs.
    /// </summary>
    /// <param name="seed">The seed of the run.</param>
    public static Recipe MnistDigits(long seed = 0) => new(
        "mnist",
        "mnist",
        "FastCnn(width 24), 6 epochs, batch 128, random crop with 2-pixel padding, AdamW (lr 4e-3, weight decay 0.05 off BN/bias), OneCycle per batch, label smoothing 0.1.",
        (channels, classes) => CreateFastCnn(channels, classes, seed),
        FastCnnOptions(epochs: 6, seed) with { Augmentation = AugmentationPresets.Get("basic", numClasses: 10, flip: false) },
        AugmentationPreset: "basic",
        Tta: TestTimeAugmentation.None,
        TargetAccuracy: 0.995);

    // The training both FastCnn recipes share: batch 128, AdamW (lr 4e-3, weight decay 0.05 off BatchNorm/bias),
    // OneCycle stepped per batch with 25% warm-up, label smoothing 0.1.
    private static TrainerOptions FastCnnOptions(int epochs, long seed) => new()
    {
        Epochs = epochs,
        BatchSize = 128,
        Seed = seed,
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 4e-3, WeightDecay = 0.05 },
        Scheduler = new SchedulerOptions { Kind = SchedulerKind.OneCycle, Interval = SchedulerInterval.Batch, PctStart = 0.25 },
        Loss = new LossOptions { LabelSmoothing = 0.1 },
        ModelName = ModelZoo.FastCnnName,
    };
}
