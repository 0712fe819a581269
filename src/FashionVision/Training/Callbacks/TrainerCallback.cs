namespace FashionVision.Training;

/// <summary>
/// Hooks into a <see cref="Trainer"/> run. Every hook is a no-op here; override the ones you need. Hooks run on the
/// training thread, in the order the callbacks were registered.
/// </summary>
/// <remarks>
/// State that must survive a resume (counters, best values, tensors) goes into the checkpoint through
/// <see cref="OnSaveCheckpoint"/> and comes back in <see cref="OnLoadCheckpoint"/>, keyed by <see cref="StateKey"/>.
/// </remarks>
public abstract class TrainerCallback
{
    /// <summary>The key of this callback's state in checkpoints (default: the type name). Make it unique if you register two of a kind.</summary>
    public virtual string StateKey => GetType().Name;

    /// <summary>Called once when <see cref="Trainer.Fit"/> starts, after the model, optimizer and scheduler exist (and after a resume).</summary>
    public virtual void OnFitStart(Trainer trainer) { }

    /// <summary>Called once when <see cref="Trainer.Fit"/> ends normally or by an early stop.</summary>
    public virtual void OnFitEnd(Trainer trainer, TrainingHistory history) { }

    /// <summary>Called before each epoch (epochs start at 1).</summary>
    public virtual void OnEpochStart(Trainer trainer, int epoch) { }

    /// <summary>Called after each epoch, after validation, with its metrics.</summary>
    public virtual void OnEpochEnd(Trainer trainer, EpochMetrics metrics) { }

    /// <summary>Called before each training batch (batches start at 1).</summary>
    public virtual void OnBatchStart(Trainer trainer, int epoch, int batch) { }

    /// <summary>Called after each training batch with its loss.</summary>
    public virtual void OnBatchEnd(Trainer trainer, BatchEndEventArgs batch) { }

    /// <summary>Called after the backward pass of each batch (gradients are available).</summary>
    public virtual void OnAfterBackward(Trainer trainer) { }

    /// <summary>Called before each optimizer step, after gradient clipping.</summary>
    public virtual void OnBeforeOptimizerStep(Trainer trainer) { }

    /// <summary>Called after each optimizer step (and its scheduler step).</summary>
    public virtual void OnAfterOptimizerStep(Trainer trainer) { }

    /// <summary>Called before each validation pass (the model is put in eval mode right after).</summary>
    public virtual void OnValidationStart(Trainer trainer, int epoch) { }

    /// <summary>Called after each validation pass.</summary>
    public virtual void OnValidationEnd(Trainer trainer, ValidationResult result) { }

    /// <summary>Called when a checkpoint is written: store what a resume needs into <paramref name="state"/>.</summary>
    public virtual void OnSaveCheckpoint(Trainer trainer, CallbackState state) { }

    /// <summary>Called when a run resumes: restore what <see cref="OnSaveCheckpoint"/> stored.</summary>
    public virtual void OnLoadCheckpoint(Trainer trainer, CallbackState state) { }

    /// <summary>Called when the run fails (divergence, cancellation, an exception in a hook); the exception propagates afterwards.</summary>
    public virtual void OnException(Trainer trainer, Exception exception) { }
}
