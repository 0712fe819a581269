using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// A loss over logits N×K and targets that are either class indices (int64, N) or soft targets (float, N×K, rows summing
/// to 1, as CutMix and Mixup produce them). Returns a scalar: the mean over the batch.
/// </summary>
public abstract class ClassificationLoss
{
    /// <summary>Computes the loss.</summary>
    /// <param name="logits">Raw model outputs N×K.</param>
    /// <param name="targets">Class indices (int64, N) or soft targets (floating point, N×K).</param>
    /// <returns>A scalar tensor.</returns>
    public Tensor Forward(Tensor logits, Tensor targets)
    {
        CheckShapes(logits, targets);
        return Compute(logits, targets);
    }

    /// <summary>Computes the loss on checked inputs.</summary>
    protected abstract Tensor Compute(Tensor logits, Tensor targets);

    /// <summary>
    /// Runs one training batch through <paramref name="model"/> and this loss; the <see cref="Trainer"/> calls it for every
    /// batch and backpropagates the loss. The default is <c>Forward(model(images), targets)</c>; a loss that needs more
    /// than the logits overrides it (<see cref="EmbeddingLoss"/> reads the embedding of the same pass,
    /// <see cref="DistillationLoss"/> asks its teacher).
    /// </summary>
    /// <param name="model">The model being trained (in training mode).</param>
    /// <param name="images">The batch's (augmented, normalised) images.</param>
    /// <param name="targets">Class indices or soft targets.</param>
    /// <returns>The logits in float32 (the Trainer counts the training accuracy from them) and the scalar loss.</returns>
    public virtual (Tensor Logits, Tensor Loss) ForwardBatch(nn.Module<Tensor, Tensor> model, Tensor images, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(model);
        var logits = AsFloat32(model.forward(images));
        return (logits, Forward(logits, targets));
    }

    /// <summary><paramref name="tensor"/> in float32 (itself when it is already).</summary>
    protected static Tensor AsFloat32(Tensor tensor) => tensor.dtype == ScalarType.Float32 ? tensor : tensor.to_type(ScalarType.Float32);

    /// <summary>A readable one-line description, e.g. <c>CrossEntropy(label_smoothing=0.1)</c>.</summary>
    public abstract string Describe();

    /// <summary>
    /// Callbacks the <see cref="Trainer"/> registers for this loss (after its built-in ones, before the user's): a loss that
    /// depends on the model binds to it when the run starts (ArcFace reads the cosine head's scale) and a loss with state of
    /// its own keeps it in checkpoints (center loss's centers). None by default; return the same instances on every call.
    /// </summary>
    public virtual IReadOnlyList<TrainerCallback> Callbacks => Array.Empty<TrainerCallback>();

    /// <inheritdoc />
    public override string ToString() => Describe();

    /// <summary>True when <paramref name="targets"/> are soft (a floating-point N×K tensor).</summary>
    protected static bool IsSoft(Tensor targets) => targets.dim() == 2 && targets.is_floating_point();

    /// <summary>Turns hard targets into one-hot rows of <paramref name="logits"/>' dtype; leaves soft ones as they are.</summary>
    protected static Tensor ToSoft(Tensor logits, Tensor targets) =>
        IsSoft(targets) ? targets.to_type(logits.dtype) : nn.functional.one_hot(targets, logits.shape[1]).to_type(logits.dtype);

    /// <summary>Throws when logits and targets do not fit together.</summary>
    protected static void CheckShapes(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.dim() != 2)
            throw new ArgumentException($"Logits must be N×K; got [{string.Join(", ", logits.shape)}].", nameof(logits));
        if (IsSoft(targets))
        {
            if (targets.shape[0] != logits.shape[0] || targets.shape[1] != logits.shape[1])
                throw new ArgumentException($"Soft targets [{string.Join(", ", targets.shape)}] do not match logits [{string.Join(", ", logits.shape)}].", nameof(targets));
        }
        else if (targets.dim() != 1 || targets.dtype != ScalarType.Int64 || targets.shape[0] != logits.shape[0])
        {
            throw new ArgumentException(
                $"Targets must be int64 class indices (N) or floating-point soft targets (N×K) for logits [{string.Join(", ", logits.shape)}]; got {targets.dtype} [{string.Join(", ", targets.shape)}].",
                nameof(targets));
        }
    }

    /// <summary>Validates per-class weights: one finite, non-negative value per class.</summary>
    internal static float[]? CheckClassWeights(float[]? weights, string paramName)
    {
        if (weights is null)
            return null;
        if (weights.Length == 0 || weights.Any(w => !float.IsFinite(w) || w < 0))
            throw new ArgumentException("Class weights must be finite and non-negative, one per class.", paramName);
        return (float[])weights.Clone();
    }

    /// <summary>The class weights as a tensor on <paramref name="logits"/>' device, checked against the class count.</summary>
    internal static Tensor? WeightTensor(float[]? weights, Tensor logits)
    {
        if (weights is null)
            return null;
        if (weights.Length != logits.shape[1])
            throw new ArgumentException($"{weights.Length} class weights given for {logits.shape[1]} classes.", "weights");
        return tensor(weights, dtype: logits.dtype, device: logits.device);
    }

    internal static string Format(double value) => value.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}
