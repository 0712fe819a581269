using FashionVision.Data;
using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// The penultimate features of any <see cref="ImageClassifier"/>: its embedding (<see cref="ImageClassifier.ForwardEmbedding"/>),
/// the vector its classifier (<see cref="ImageClassifier.Classifier"/>, linear or cosine) reads, i.e. the embedding the classes
/// are separated in. These are what t-SNE plots and cluster-tightness scores (<see cref="Silhouette"/>) are computed on.
/// </summary>
/// <remarks>
/// The features are <c>ForwardEmbedding(ForwardFeatures(x))</c> with the model in eval mode (dropout off, BatchNorm running
/// statistics), so they are exactly what the classifier sees, whatever pooling or hidden layers the model's head has, and
/// the same vectors center loss trains.
/// </remarks>
public static class FeatureExtractor
{
    /// <summary>Runs <paramref name="model"/> over <paramref name="dataset"/> and returns every image's penultimate features.</summary>
    /// <param name="model">Any zoo model (or other <see cref="ImageClassifier"/>); left in eval mode.</param>
    /// <param name="dataset">The images to embed.</param>
    /// <param name="options">Batch size, device and the input normalisation the model was trained with (<see cref="EvaluatorOptions.Normalization"/>); the other options are ignored.</param>
    /// <returns>float32 N×D on the CPU, in dataset order (D = <c>Classifier.in_features</c>).</returns>
    /// <exception cref="ArgumentException">The dataset is empty, or the batch size is not positive.</exception>
    public static Tensor Extract(ImageClassifier model, InMemoryDataset dataset, EvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new EvaluatorOptions();
        long dimensions = model.Classifier.in_features;
        var features = empty(new long[] { dataset.Count, dimensions }, ScalarType.Float32);
        try
        {
            Evaluator.ForEachBatch(model, dataset, options, (batch, offset) =>
            {
                var embedding = model.ForwardEmbedding(model.ForwardFeatures(batch.Images));
                features.narrow(0, offset, batch.Size).copy_(embedding.cpu().to_type(ScalarType.Float32).reshape(batch.Size, dimensions));
            });
            return features;
        }
        catch
        {
            features.Dispose();
            throw;
        }
    }
}
