using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// Finds mislabelled training images: k models trained on k stratified folds give every image an out-of-fold probability
/// vector (from the model that did not see it), <see cref="ConfidentLearning"/> flags and ranks the suspects, and every
/// fold model's vote on every image says how many of the k models reject its label.
/// </summary>
/// <example>
/// <code>
/// using var train = new FashionMnistSource().Load(DatasetSplit.Train).Take(20_000);
/// var report = LabelNoiseFinder.Find(train, new LabelNoiseOptions { Folds = 4, Seed = 0 });
/// foreach (var issue in report.Issues.Take(10))
///     Console.WriteLine($"#{issue.Index}: labelled {report.ClassNames[issue.GivenLabel]}, looks like {report.ClassNames[issue.SuggestedLabel]}");
/// </code>
/// </example>
public static class LabelNoiseFinder
{
    /// <summary>Trains the fold models and flags label issues in <paramref name="dataset"/>.</summary>
    /// <param name="dataset">The labelled set to inspect (usually a training split).</param>
    /// <param name="options">Folds, model, training and filter; null for the defaults.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    /// <exception cref="ArgumentException">An option is out of range, or the dataset is too small for the folds.</exception>
    public static LabelNoiseReport Find(InMemoryDataset dataset, LabelNoiseOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LabelNoiseOptions();
        using var predictions = PredictOutOfFold(dataset, options, cancellationToken);
        return predictions.FindIssues(dataset, options.Filter);
    }

    /// <summary>
    /// Trains one model per fold on the other folds and returns the out-of-fold probabilities (and, with
    /// <see cref="LabelNoiseOptions.CountVotes"/>, each image's count of models that reject its label).
    /// </summary>
    /// <param name="dataset">The labelled set.</param>
    /// <param name="options">Folds, model and training; null for the defaults.</param>
    /// <param name="cancellationToken">Stops training between batches.</param>
    public static OutOfFoldPredictions PredictOutOfFold(InMemoryDataset dataset, LabelNoiseOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new LabelNoiseOptions();
        options.Validate();
        int k = options.Folds;
        if (dataset.Count < 2L * k)
            throw new ArgumentException($"The dataset '{dataset.Name}' has {dataset.Count} images, too few for {k} folds.", nameof(dataset));
        var logger = options.Logger ?? NullLogger.Instance;
        var device = options.Training.Device ?? CPU;
        var (channels, _, _) = dataset.ImageShape;
        var modelOptions = (options.ModelOptions ?? ModelZoo.DefaultOptions(options.Model)) with { InputChannels = channels, NumClasses = dataset.NumClasses };

        var folds = StratifiedKFold.Assign(dataset.Labels, dataset.NumClasses, k, options.Seed);
        var probabilities = zeros(new long[] { dataset.Count, dataset.NumClasses }, ScalarType.Float32);
        var against = options.CountVotes ? zeros(dataset.Count, ScalarType.Int64) : null;
        var accuracies = new double[k];
        try
        {
            using var labels = dataset.Labels.cpu();
            for (int fold = 0; fold < k; fold++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var heldOut = folds.eq(fold).nonzero().flatten();
                using var train = dataset.Subset(folds.ne(fold).nonzero().flatten(), $"{dataset.Name}/fold-{fold + 1}-train");
                using var held = dataset.Subset(heldOut, $"{dataset.Name}/fold-{fold + 1}");
                long seed = options.Seed + fold;
                using var model = ModelZoo.Create(options.Model, modelOptions with { Seed = seed });
                var training = options.Training with
                {
                    Seed = seed,
                    DropLast = options.Training.DropLast && train.Count > options.Training.BatchSize,
                    Logger = options.Logger ?? options.Training.Logger,
                    Progress = options.Progress is { } progress ? new FoldProgress(progress, fold + 1, k) : options.Training.Progress,
                    CheckpointDirectory = null,
                    ResumeFrom = null,
                };
                using var trainer = new Trainer(model, training);
                trainer.Fit(train, null, cancellationToken);

                var evaluation = new EvaluatorOptions { Device = device, Normalization = trainer.Normalization, BatchSize = options.Training.EvaluationBatchSize };
                // With votes every model predicts the whole set, and its held-out rows are the out-of-fold probabilities.
                var p = Evaluator.PredictProbabilities(model, against is null ? held : dataset, evaluation);
                var heldProbabilities = against is null ? p : p.index_select(0, heldOut);
                probabilities.index_copy_(0, heldOut, heldProbabilities);
                against?.add_(p.argmax(1).ne(labels).to_type(ScalarType.Int64));
                accuracies[fold] = heldProbabilities.argmax(1).eq(labels.index_select(0, heldOut)).to_type(ScalarType.Float64).mean().item<double>();
                logger.LogInformation("Label-noise fold {Fold}/{Folds}: trained {Model} on {Train} images, {Accuracy:P2} of the {Held} held-out images agree with their labels.",
                    fold + 1, k, options.Model, train.Count, accuracies[fold], held.Count);
            }
            return new OutOfFoldPredictions(probabilities, against, folds, k, accuracies);
        }
        catch
        {
            probabilities.Dispose();
            against?.Dispose();
            folds.Dispose();
            throw;
        }
    }

    /// <summary>Forwards a fold trainer's progress with the fold's number.</summary>
    private sealed class FoldProgress(IProgress<LabelNoiseProgress> target, int fold, int folds) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => target.Report(new LabelNoiseProgress(fold, folds, value));
    }
}

/// <summary>The out-of-fold predictions of <see cref="LabelNoiseFinder.PredictOutOfFold"/>; owns its tensors.</summary>
public sealed class OutOfFoldPredictions : IDisposable
{
    internal OutOfFoldPredictions(Tensor probabilities, Tensor? modelsAgainst, Tensor folds, int models, IReadOnlyList<double> foldAccuracies)
    {
        Probabilities = probabilities;
        ModelsAgainst = modelsAgainst;
        Folds = folds;
        Models = models;
        FoldAccuracies = foldAccuracies;
    }

    /// <summary>float32 N×K on the CPU: each image's probabilities from the model that did not train on it.</summary>
    public Tensor Probabilities { get; }

    /// <summary>int64 N on the CPU: how many of the <see cref="Models"/> models predict another class than the given label, or null when votes were not counted.</summary>
    public Tensor? ModelsAgainst { get; }

    /// <summary>int64 N on the CPU: each image's fold.</summary>
    public Tensor Folds { get; }

    /// <summary>The number of fold models.</summary>
    public int Models { get; }

    /// <summary>Per fold, the fraction of held-out images whose prediction equals the given label.</summary>
    public IReadOnlyList<double> FoldAccuracies { get; }

    /// <summary>Runs <see cref="ConfidentLearning"/> on these predictions (cheap: compare filters without retraining).</summary>
    /// <param name="dataset">The dataset the predictions were made for (its labels and class names).</param>
    /// <param name="filter">Which samples count as issues.</param>
    /// <exception cref="ArgumentException">The dataset does not match the predictions.</exception>
    public LabelNoiseReport FindIssues(InMemoryDataset dataset, LabelIssueFilter filter = LabelIssueFilter.PruneByNoiseRate)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return ConfidentLearning.FindIssues(Probabilities, dataset.Labels, dataset.ClassNames, filter, ModelsAgainst, ModelsAgainst is null ? null : Models);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Probabilities.Dispose();
        ModelsAgainst?.Dispose();
        Folds.Dispose();
    }
}
