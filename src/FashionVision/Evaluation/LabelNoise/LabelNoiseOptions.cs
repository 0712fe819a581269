using FashionVision.Models;
using FashionVision.Training;
using Microsoft.Extensions.Logging;

namespace FashionVision.Evaluation;

/// <summary>
/// How <see cref="LabelNoiseFinder"/> trains its k fold models and flags issues. The defaults train 4 <c>fast-cnn</c>
/// models for 2 epochs each with the fast Fashion-MNIST recipe's optimizer, schedule and label smoothing.
/// </summary>
public sealed record LabelNoiseOptions
{
    /// <summary>The number of folds k (default 4): each model trains on k − 1 folds and predicts the held-out one.</summary>
    public int Folds { get; init; } = 4;

    /// <summary>The one seed: fold assignment, and (offset by the fold number) each fold's initial weights, data order and augmentation.</summary>
    public long Seed { get; init; }

    /// <summary>The zoo model trained on every fold (default <c>fast-cnn</c>).</summary>
    public string Model { get; init; } = ModelZoo.FastCnnName;

    /// <summary>Options of the model (null = the model's defaults); input channels and class count come from the dataset.</summary>
    public ModelOptions? ModelOptions { get; init; }

    /// <summary>
    /// How every fold model trains (default: <see cref="Recipes.FashionMnistFast"/>'s options cut to 2 epochs). Its seed is
    /// replaced by the fold's; its device is where training and prediction run.
    /// </summary>
    public TrainerOptions Training { get; init; } = Recipes.FashionMnistFast(precision: Models.ComputePrecision.Float32).TrainerOptions() with { Epochs = 2 };

    /// <summary>Which samples count as issues (default <see cref="LabelIssueFilter.PruneByNoiseRate"/>).</summary>
    public LabelIssueFilter Filter { get; init; } = LabelIssueFilter.PruneByNoiseRate;

    /// <summary>
    /// Also let every fold model predict the whole set and count, per sample, the models that reject its label (default true;
    /// costs one inference pass over the data per fold).
    /// </summary>
    public bool CountVotes { get; init; } = true;

    /// <summary>Where the finder logs (the fold trainers log there too; default none).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Receives each fold's training progress.</summary>
    public IProgress<LabelNoiseProgress>? Progress { get; init; }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the option at fault.</summary>
    public void Validate()
    {
        if (Folds < 2)
            throw new ArgumentOutOfRangeException(nameof(Folds), Folds, "LabelNoiseOptions.Folds must be at least 2.");
        ArgumentException.ThrowIfNullOrWhiteSpace(Model, nameof(Model));
        if (!ModelZoo.Contains(Model))
            throw new ArgumentException($"LabelNoiseOptions.Model: unknown model '{Model}'. Valid names: {string.Join(", ", ModelZoo.Names)}.", nameof(Model));
        ArgumentNullException.ThrowIfNull(Training, nameof(Training));
        Training.Validate();
        if (!Enum.IsDefined(Filter))
            throw new ArgumentOutOfRangeException(nameof(Filter), Filter, "LabelNoiseOptions.Filter is not a defined value.");
    }
}

/// <summary>Progress of a <see cref="LabelNoiseFinder"/> run: which fold is training, and that fold's training progress.</summary>
/// <param name="Fold">The fold being trained, starting at 1.</param>
/// <param name="Folds">The number of folds.</param>
/// <param name="Training">The fold trainer's own report.</param>
public sealed record LabelNoiseProgress(int Fold, int Folds, TrainingProgress Training);
