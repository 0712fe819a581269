using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>How <see cref="RecipeRunner.Run"/> runs a recipe: the run's own settings on top of the recipe's.</summary>
public sealed record RecipeRunOptions
{
    /// <summary>The device (default CPU).</summary>
    public Device? Device { get; init; }

    /// <summary>
    /// When the recipe's time budget began (default: when the current process started, so start-up and data loading
    /// count, as they do in the measured runs). Ignored by recipes without a budget.
    /// </summary>
    public DateTimeOffset? BudgetStartedAt { get; init; }

    /// <summary>Extra trainer settings applied on top of the recipe's (checkpoints, callbacks, logging, progress).</summary>
    public Func<TrainerOptions, TrainerOptions>? Configure { get; init; }

    /// <summary>The logger (default none).</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>What a recipe run produced: the trained model, its history, and its evaluation on the test set.</summary>
/// <param name="Model">The trained model (owned by the caller: dispose it).</param>
/// <param name="History">The training history.</param>
/// <param name="Evaluation">The test-set evaluation, with the recipe's test-time augmentation.</param>
/// <param name="Normalization">The input normalisation the model was trained with.</param>
/// <param name="ImagesTrained">Training images processed (optimizer steps × batch size × accumulation).</param>
/// <param name="TrainingTime">The wall time of <see cref="Trainer.Fit"/>.</param>
/// <param name="EvaluationTime">The wall time of the test evaluation.</param>
public sealed record RecipeResult(
    ImageClassifier Model,
    TrainingHistory History,
    EvaluationResult Evaluation,
    ChannelStatistics? Normalization,
    long ImagesTrained,
    TimeSpan TrainingTime,
    TimeSpan EvaluationTime);

/// <summary>Runs a <see cref="Recipe"/> end to end: builds and initialises the model, trains it, evaluates it on the test set.</summary>
public static class RecipeRunner
{
    /// <summary>Trains <paramref name="recipe"/> on <paramref name="train"/> and evaluates it on <paramref name="test"/>.</summary>
    /// <remarks>A recipe with a time budget reserves the time of its test evaluation (the test images times its
    /// test-time-augmentation views) inside the budget, so the whole run, evaluation included, ends within it.</remarks>
    /// <exception cref="ArgumentException">The datasets do not fit the recipe (see <see cref="Trainer.Fit"/>).</exception>
    public static RecipeResult Run(Recipe recipe, InMemoryDataset train, InMemoryDataset test, RecipeRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        options ??= new RecipeRunOptions();
        var device = options.Device ?? CPU;
        var (channels, _, _) = train.ImageShape;
        var model = recipe.CreateModel(channels, train.NumClasses);
        try
        {
            var trainerOptions = recipe.Options with { Device = device, Logger = options.Logger ?? recipe.Options.Logger };
            if (trainerOptions.TimeBudget is { } budget)
            {
                trainerOptions = trainerOptions with
                {
                    TimeBudget = budget with
                    {
                        StartedAt = options.BudgetStartedAt ?? budget.StartedAt ?? new DateTimeOffset(Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero),
                        ReserveForImages = test.Count * recipe.TestTimeViews,
                    },
                };
            }
            if (options.Configure is { } configure)
                trainerOptions = configure(trainerOptions);
            var normalization = trainerOptions.Normalize ? trainerOptions.Normalization ?? train.ComputeStatistics() : null;
            trainerOptions = trainerOptions with { Normalization = normalization };
            recipe.Initialize?.Invoke(model, train, normalization);

            using var trainer = new Trainer(model, trainerOptions);
            var history = trainer.Fit(train, validationSet: null, cancellationToken);
            var clock = Stopwatch.StartNew();
            var evaluation = Evaluator.Evaluate(model, test, new EvaluatorOptions
            {
                Device = device,
                Normalization = trainer.Normalization,
                Tta = recipe.Tta,
            });
            long images = trainer.GlobalStep * trainerOptions.BatchSize * trainerOptions.AccumulationSteps;
            return new RecipeResult(model, history, evaluation, trainer.Normalization, images, history.TotalTime, clock.Elapsed);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
