using FashionVision.Data;
using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// The penultimate features of any <see cref="ImageClassifier"/>: the vector its final linear layer
/// (<see cref="ImageClassifier.Classifier"/>) reads, i.e. the embedding the classes are linearly separated in. These are
/// what t-SNE plots and cluster-tightness scores (<see cref="Silhouette"/>) are computed on.
/// </summary>
/// <remarks>
/// The features are captured by a forward hook on <see cref="ImageClassifier.Classifier"/> while the model runs in eval mode
/// (dropout off, BatchNorm running statistics), so they are exactly what the classifier sees, whatever pooling or hidden
/// layers the model's head has. A model whose head calls its classifier through <c>forward</c> instead of <c>call</c>
/// bypasses hooks; <see cref="Extract"/> then throws rather than return nothing.
/// </remarks>
public static class FeatureExtractor
{
    /// <summary>Runs <paramref name="model"/> over <paramref name="dataset"/> and returns every image's penultimate features.</summary>
    /// <param name="model">Any zoo model (or other <see cref="ImageClassifier"/>); left in eval mode.</param>
    /// <param name="dataset">The images to embed.</param>
    /// <param name="options">Batch size, device and the input normalisation the model was trained with (<see cref="EvaluatorOptions.Normalization"/>); the other options are ignored.</param>
    /// <returns>float32 N×D on the CPU, in dataset order (D = <c>Classifier.in_features</c>).</returns>
    /// <exception cref="ArgumentException">The dataset is empty, or the batch size is not positive.</exception>
    /// <exception cref="InvalidOperationException">The model's head did not run its classifier through <c>call</c>.</exception>
    public static Tensor Extract(ImageClassifier model, InMemoryDataset dataset, EvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new EvaluatorOptions();
        long dimensions = model.Classifier.in_features;
        var features = empty(new long[] { dataset.Count, dimensions }, ScalarType.Float32);
        Tensor? captured = null;
        var hook = model.Classifier.register_forward_hook((_, input, output) =>
        {
            captured?.Dispose();
            captured = input.detach().cpu().to_type(ScalarType.Float32).DetachFromDisposeScope();
            return output;
        });
        try
        {
            Evaluator.ForEachBatch(model, dataset, options, (batch, offset) =>
            {
                model.forward(batch.Images);
                if (captured is null)
                    throw new InvalidOperationException($"{model.GetName()} did not run its classifier through call(), so its penultimate features cannot be captured.");
                features.narrow(0, offset, batch.Size).copy_(captured.reshape(batch.Size, dimensions));
                captured.Dispose();
                captured = null;
            });
            return features;
        }
        catch
        {
            features.Dispose();
            throw;
        }
        finally
        {
            hook.remove();
            captured?.Dispose();
        }
    }
}
