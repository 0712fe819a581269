using FashionVision.Data;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>The pieces a <see cref="Trainer.Fit"/> run builds from its options: the normalisation, the loaders, the schedule and the callbacks.</summary>
internal static class FitSetup
{
    /// <summary>Sets torch's intra-op thread count for the run; disposing the result puts the caller's count back.</summary>
    public static IDisposable UseIntraOpThreads(int count)
    {
        int caller = torch.get_num_threads();
        if (count != caller)
            torch.set_num_threads(count);
        return new ThreadCountRestorer(caller);
    }

    private sealed class ThreadCountRestorer(int caller) : IDisposable
    {
        public void Dispose()
        {
            if (torch.get_num_threads() != caller)
                torch.set_num_threads(caller);
        }
    }

    /// <summary>
    /// The statistics the data is normalised with, or null. A model that normalises its own input
    /// (<see cref="Models.PreprocessedClassifier"/>) gets [0, 1] pixels, exactly as it will at inference. A resumed run keeps
    /// normalising with the statistics it began with, from its first batch on (fixed statistics in the options equal those
    /// unless the settings check was overridden, and then the options win).
    /// </summary>
    public static ChannelStatistics? Normalization(TrainerOptions options, nn.Module<Tensor, Tensor> model, InMemoryDataset trainSet, Checkpoint? resumeFrom, ILogger logger)
    {
        if (model is Models.PreprocessedClassifier { Preprocessing.Normalizes: true } preprocessed)
        {
            if (options.Normalize)
                logger.LogInformation("The model normalises its own input ({Preprocessing}); the data is not normalised again.", preprocessed.Preprocessing);
            return null;
        }
        return options.Normalize ? options.Normalization ?? resumeFrom?.Manifest.Normalization ?? trainSet.ComputeStatistics() : null;
    }

    /// <summary>The shuffled training loader and the validation loader (null without a validation set).</summary>
    public static (DataLoader Train, DataLoader? Validation) Loaders(TrainerOptions options, InMemoryDataset trainSet, InMemoryDataset? validationSet, Device device, ChannelStatistics? normalization)
    {
        var train = new DataLoader(trainSet, new DataLoaderOptions
        {
            BatchSize = options.BatchSize,
            Shuffle = true,
            DropLast = options.DropLast && trainSet.Count >= options.BatchSize,
            Seed = options.Seed,
            Device = device,
            Normalization = normalization,
        });
        var validation = validationSet is null ? null : new DataLoader(validationSet, new DataLoaderOptions
        {
            BatchSize = options.EvaluationBatchSize,
            Shuffle = false,
            Device = device,
            Normalization = normalization,
        });
        return (train, validation);
    }

    /// <summary>The schedule for <paramref name="batchesPerEpoch"/> batches an epoch, and its whole length in its own steps (what a time budget's progress is laid over).</summary>
    public static (LearningRateScheduler Scheduler, long Length) Schedule(TrainerOptions options, int batchesPerEpoch)
    {
        int stepsPerEpoch = (batchesPerEpoch + options.AccumulationSteps - 1) / options.AccumulationSteps;
        long length = Math.Max(1, options.Scheduler.Interval == SchedulerInterval.Batch ? (long)stepsPerEpoch * options.Epochs : options.Epochs);
        var scheduler = SchedulerFactory.Create(options.Scheduler, length);
        return (scheduler, options.Scheduler.TotalSteps is { } fixedLength ? fixedLength + options.Scheduler.WarmupSteps : length);
    }

    /// <summary>
    /// The run's callbacks in call order: <see cref="TerminateOnNaN"/>, the time budget, EMA, early stopping, the loss's,
    /// the options', and <see cref="ModelCheckpoint"/> last (so every other callback's state is final when it writes).
    /// </summary>
    /// <returns>All of them, and those the trainer owns and disposes.</returns>
    /// <exception cref="ArgumentException">Two callbacks share a state key.</exception>
    public static (List<TrainerCallback> All, List<IDisposable> Owned) Callbacks(TrainerOptions options, ClassificationLoss loss)
    {
        var all = new List<TrainerCallback>();
        var owned = new List<IDisposable>();
        if (options.StopOnNonFiniteLoss)
            all.Add(new TerminateOnNaN());
        if (options.TimeBudget is { } budget)
            all.Add(new TimeBudgetCallback(budget, options.TimeProvider));
        if (options.EmaDecay is { } decay)
            Own(new ExponentialMovingAverage(decay));
        if (options.EarlyStopping is { } es)
            Own(new EarlyStopping(es, options.Monitor));
        all.AddRange(loss.Callbacks);
        all.AddRange(options.Callbacks);
        if (options.CheckpointDirectory is { } directory)
            all.Add(new ModelCheckpoint(directory, options.Monitor));
        var keys = all.GroupBy(c => c.StateKey).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (keys.Count > 0)
        {
            foreach (var c in owned)
                c.Dispose();
            throw new ArgumentException($"Two callbacks share the state key '{keys[0]}'; override StateKey to make them unique.", nameof(TrainerOptions.Callbacks));
        }
        return (all, owned);

        void Own<T>(T callback) where T : TrainerCallback, IDisposable
        {
            all.Add(callback);
            owned.Add(callback);
        }
    }
}
