using FashionVision.Models;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// A loss that reads, besides the logits, the embedding they were computed from (<see cref="ImageClassifier.ForwardEmbedding"/>):
/// metric-learning losses such as <see cref="CenterLoss"/>. For a training batch it runs the <see cref="ImageClassifier"/>
/// with <see cref="ImageClassifier.ForwardWithEmbedding"/> and passes both (<see cref="ForwardBatch"/>).
/// </summary>
public abstract class EmbeddingLoss : ClassificationLoss
{
    /// <summary>Computes the loss.</summary>
    /// <param name="logits">Raw model outputs N×K.</param>
    /// <param name="embeddings">The embeddings N×D the logits were computed from.</param>
    /// <param name="targets">Class indices (int64, N) or soft targets (floating point, N×K).</param>
    /// <returns>A scalar tensor.</returns>
    public Tensor Forward(Tensor logits, Tensor embeddings, Tensor targets)
    {
        CheckShapes(logits, targets);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.dim() != 2 || embeddings.shape[0] != logits.shape[0] || !embeddings.is_floating_point())
            throw new ArgumentException(
                $"Embeddings must be floating-point N×D with N = {logits.shape[0]}; got {embeddings.dtype} [{string.Join(", ", embeddings.shape)}].", nameof(embeddings));
        return Compute(logits, embeddings, targets);
    }

    /// <summary>Computes the loss on checked inputs.</summary>
    protected abstract Tensor Compute(Tensor logits, Tensor embeddings, Tensor targets);

    /// <summary>Runs the batch through the model once for both the logits and the embedding they come from, then the loss.</summary>
    /// <exception cref="ArgumentException">The model is not an <see cref="ImageClassifier"/>.</exception>
    public override (Tensor Logits, Tensor Loss) ForwardBatch(nn.Module<Tensor, Tensor> model, Tensor images, Tensor targets)
    {
        var (output, embeddings) = RequireImageClassifier(model).ForwardWithEmbedding(images);
        var logits = AsFloat32(output);
        return (logits, Forward(logits, AsFloat32(embeddings), targets));
    }

    /// <summary>Always throws: this loss needs the embeddings.</summary>
    protected sealed override Tensor Compute(Tensor logits, Tensor targets) =>
        throw new InvalidOperationException(
            $"{GetType().Name} needs the embeddings the logits came from: call Forward(logits, embeddings, targets) (the Trainer does for an ImageClassifier).");

    /// <summary>The model as an <see cref="ImageClassifier"/>, or an exception that says why this loss needs one.</summary>
    internal ImageClassifier RequireImageClassifier(nn.Module<Tensor, Tensor> model) =>
        model as ImageClassifier ?? throw new ArgumentException(
            $"{GetType().Name} reads the embedding in front of the classifier, so the model must be an ImageClassifier (a zoo model); got {model.GetType().Name}.", "model");
}
