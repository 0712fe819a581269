using FashionVision.Data;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// A <see cref="Trainer"/>'s state in and out of a <see cref="Checkpoint"/>: the weights, the one copy of the averaged
/// weights (<c>ema.sd</c>), the optimizer, the schedule, both random generators, the history and every callback's state
/// (the time budget's among them); and the checks a resume makes first.
/// </summary>
internal static class TrainerCheckpoints
{
    /// <summary>Writes the trainer's current state to <paramref name="path"/> (atomically).</summary>
    public static void Save(Trainer trainer, string path)
    {
        var optimizer = trainer.Optimizer!;
        var scheduler = trainer.Scheduler!;
        var entries = new Dictionary<string, byte[]>
        {
            [Checkpoint.ModelEntry] = StateDictionaryFormat.ToBytes(trainer.Model.state_dict()),
            [Checkpoint.OptimizerEntry] = OptimizerState.ToBytes(optimizer),
        };
        if (trainer.Ema is { } ema)
            entries[Checkpoint.EmaEntry] = StateDictionaryFormat.ToBytes(ema.ShadowState(trainer.Model));
        using (var torchState = torch.get_rng_state())
        using (var augmentationState = trainer.AugmentationGenerator.get_state())
            entries[Checkpoint.RngEntry] = StateDictionaryFormat.ToBytes(new Dictionary<string, Tensor> { ["torch"] = torchState, ["augmentation"] = augmentationState });

        var callbackStates = new Dictionary<string, CallbackStateManifest>();
        foreach (var c in trainer.Callbacks)
        {
            var state = new CallbackState();
            c.OnSaveCheckpoint(trainer, state);
            if (state.IsEmpty)
                continue;
            callbackStates[c.StateKey] = new CallbackStateManifest(state.Values, state.Strings, state.TensorSets.Keys.ToArray());
            foreach (var (name, bytes) in state.TensorSets)
                entries[$"callbacks/{c.StateKey}/{name}.sd"] = bytes;
        }

        var shape = trainer.InputShape;
        var manifest = new CheckpointManifest
        {
            CreatedUtc = DateTime.UtcNow,
            Epoch = trainer.CompletedEpochs,
            GlobalStep = trainer.GlobalStep,
            ModelType = trainer.Model.GetType().FullName ?? trainer.Model.GetType().Name,
            ModelName = trainer.Options.ModelName,
            ModelOptionsJson = trainer.Options.ModelOptionsJson,
            Precision = trainer.ResolvedPrecision,
            PrecisionReason = trainer.PrecisionReason,
            ClassNames = trainer.ClassNames.ToArray(),
            InputShape = new[] { shape.Channels, shape.Height, shape.Width },
            Normalization = trainer.Normalization,
            OptimizerType = optimizer.GetType().Name,
            Scheduler = scheduler.Describe(),
            SchedulerState = new Dictionary<string, double>(scheduler.GetState()),
            HasAveragedWeights = trainer.Ema is not null,
            BestEpoch = trainer.History.BestEpoch,
            BestMetric = trainer.History.BestMetric,
            History = trainer.History.Epochs.ToArray(),
            RunSettings = trainer.Settings,
            Callbacks = callbackStates,
        };
        new Checkpoint(manifest, entries).Save(path);
    }

    /// <summary>Reads the checkpoint a run resumes from.</summary>
    /// <exception cref="ArgumentException">It holds no optimizer state.</exception>
    public static Checkpoint OpenForResume(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        if (!checkpoint.HasOptimizerState)
            throw new ArgumentException($"The checkpoint '{path}' holds no optimizer state and cannot be resumed.", nameof(TrainerOptions.ResumeFrom));
        return checkpoint;
    }

    /// <summary>Refuses to resume a run whose settings differ from the checkpoint's, unless the options allow it.</summary>
    /// <exception cref="ResumeSettingsMismatchException">The settings differ and <see cref="TrainerOptions.AllowChangedOptionsOnResume"/> is off.</exception>
    public static void CheckResumeSettings(Trainer trainer, Checkpoint checkpoint)
    {
        string path = checkpoint.Path ?? "(memory)";
        if (checkpoint.Manifest.RunSettings is not { } saved)
        {
            trainer.Logger.LogWarning("The checkpoint {Path} records no run settings (written by an older version); they cannot be compared with this run's.", path);
            return;
        }
        var differences = trainer.Settings!.DifferencesFrom(saved);
        if (differences.Count == 0)
            return;
        if (!trainer.Options.AllowChangedOptionsOnResume)
            throw new ResumeSettingsMismatchException(path, differences);
        trainer.Logger.LogWarning("Resuming {Path} with changed settings ({Differences}): the run will differ from an uninterrupted one.", path, string.Join("; ", differences));
    }

    /// <summary>Puts the checkpoint's state into the trainer, whose optimizer, schedule and callbacks exist already.</summary>
    /// <exception cref="CheckpointMismatchException">The checkpoint's classes or weights do not fit.</exception>
    public static void Resume(Trainer trainer, Checkpoint checkpoint, InMemoryDataset trainSet)
    {
        string path = checkpoint.Path ?? "(memory)";
        var manifest = checkpoint.Manifest;
        if (manifest.ClassNames.Count > 0 && !manifest.ClassNames.SequenceEqual(trainSet.ClassNames))
            throw new CheckpointMismatchException(
                $"The checkpoint '{path}' was trained on classes [{string.Join(", ", manifest.ClassNames)}] but the training set has [{string.Join(", ", trainSet.ClassNames)}].",
                Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        checkpoint.LoadWeightsInto(trainer.Model, preferAveraged: false);
        OptimizerState.Load(trainer.Optimizer!, checkpoint.Entries[Checkpoint.OptimizerEntry], path);
        if (manifest.SchedulerState is { } schedulerState)
            trainer.Scheduler!.LoadState(schedulerState);
        var rng = checkpoint.ReadTensors(Checkpoint.RngEntry);
        try
        {
            torch.set_rng_state(rng["torch"]);
            trainer.AugmentationGenerator.set_state(rng["augmentation"]);
        }
        finally
        {
            foreach (var t in rng.Values)
                t.Dispose();
        }
        trainer.CompletedEpochs = manifest.Epoch;
        trainer.CurrentEpoch = manifest.Epoch;
        trainer.GlobalStep = manifest.GlobalStep;
        trainer.History.Epochs.AddRange(manifest.History);
        trainer.History.BestEpoch = manifest.BestEpoch;
        trainer.History.BestMetric = manifest.BestMetric;
        trainer.History.ResumedAfterEpoch = manifest.Epoch;
        foreach (var c in trainer.Callbacks)
            c.OnLoadCheckpoint(trainer, ReadCallbackState(checkpoint, c.StateKey));
        if (trainer.Ema is { } ema && checkpoint.Entries.ContainsKey(Checkpoint.EmaEntry))
        {
            var shadow = checkpoint.ReadTensors(Checkpoint.EmaEntry);
            try
            {
                ema.Restore(trainer.Model, shadow);
            }
            finally
            {
                foreach (var t in shadow.Values)
                    t.Dispose();
            }
        }
        trainer.LastCheckpointPath = Path.GetFullPath(path);
        trainer.Logger.LogInformation("Resumed from {Path} after epoch {Epoch} (step {Step}).", path, manifest.Epoch, manifest.GlobalStep);
    }

    private static CallbackState ReadCallbackState(Checkpoint checkpoint, string key)
    {
        var state = new CallbackState();
        var manifest = checkpoint.Manifest;
        if (manifest.Callbacks.TryGetValue(key, out var saved))
        {
            foreach (var (k, v) in saved.Values)
                state.Values[k] = v;
            foreach (var (k, v) in saved.Strings)
                state.Strings[k] = v;
            foreach (var name in saved.TensorSets)
                if (checkpoint.Entries.TryGetValue($"callbacks/{key}/{name}.sd", out var bytes))
                    state.TensorSets[name] = bytes;
        }
        else if (key == "TimeBudget" && manifest.TimeBudgetState is { } budget)
        {
            // Checkpoints of older versions kept the budget's state in the manifest rather than as a callback's.
            foreach (var (k, v) in budget)
                state.Values[k] = v;
        }
        return state;
    }
}
