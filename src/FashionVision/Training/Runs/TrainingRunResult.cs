using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;

namespace FashionVision.Training;

/// <summary>What <see cref="TrainingRun.Execute"/> produced. Dispose it to free the model and the held-out splits.</summary>
/// <param name="Spec">The spec that ran.</param>
/// <param name="Model">The trained model (disposed with the result unless <see cref="DetachModel"/> takes it).</param>
/// <param name="ModelInfo">The model's zoo description (parameters, FLOPs, input shape).</param>
/// <param name="HeldOutTrain">The training images after the validation hold-out, when one was made (owned by the result); null when the run trained on the given set.</param>
/// <param name="Validation">The validation images, or null.</param>
/// <param name="History">The training history.</param>
/// <param name="Evaluation">The test-set evaluation, with the spec's test-time augmentation.</param>
public sealed record TrainingRunResult(
    RunSpec Spec,
    ImageClassifier Model,
    ModelInfo ModelInfo,
    InMemoryDataset? HeldOutTrain,
    InMemoryDataset? Validation,
    TrainingHistory History,
    EvaluationResult Evaluation) : IDisposable
{
    private bool _modelDetached;

    /// <summary>The input normalisation the model was trained with (stored in checkpoints for predictors), or null.</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>Training images processed (optimizer steps × batch size × accumulation).</summary>
    public long ImagesTrained { get; init; }

    /// <summary>The wall time of <see cref="Trainer.Fit"/>.</summary>
    public TimeSpan TrainingTime { get; init; }

    /// <summary>The wall time of the test evaluation.</summary>
    public TimeSpan EvaluationTime { get; init; }

    /// <summary>The intra-op thread count the run trained with.</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>The compute precision the run trained in (<see cref="ComputePrecision.Auto"/> resolved).</summary>
    public ComputePrecision Precision { get; init; }

    /// <summary>Why <see cref="Precision"/> was chosen (for Auto: the device's capability), or null.</summary>
    public string? PrecisionReason { get; init; }

    /// <summary>The last checkpoint the trainer wrote (or resumed from), or null.</summary>
    public string? LastCheckpoint { get; init; }

    /// <summary>Every training batch's loss and learning rate.</summary>
    public IReadOnlyList<StepMetrics> Steps { get; init; } = [];

    /// <summary>The overfitting warnings of the run.</summary>
    public IReadOnlyList<string> OverfittingWarnings { get; init; } = [];

    /// <summary>Per-layer gradient norms per epoch, when the spec asked for diagnostics.</summary>
    public GradientFlowMonitor? GradientFlow { get; init; }

    /// <summary>Dead-ReLU shares per epoch, when the spec asked for diagnostics.</summary>
    public DeadReluMonitor? DeadRelu { get; init; }

    /// <summary>The run's TensorBoard logger (disposed with the result), when the spec asked for one.</summary>
    public TensorBoardLogger? TensorBoard { get; init; }

    /// <summary>The distillation teacher (disposed with the result), or null.</summary>
    public ImageClassifier? Teacher { get; init; }

    /// <summary>The training images the model saw: the held-out remainder, or <paramref name="fullTrain"/> itself.</summary>
    public InMemoryDataset TrainSet(InMemoryDataset fullTrain) => HeldOutTrain ?? fullTrain;

    /// <summary>Hands the model to the caller, who disposes it; the result no longer does.</summary>
    public ImageClassifier DetachModel()
    {
        _modelDetached = true;
        return Model;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_modelDetached)
            Model.Dispose();
        Teacher?.Dispose();
        TensorBoard?.Dispose();
        HeldOutTrain?.Dispose();
        Validation?.Dispose();
    }
}
