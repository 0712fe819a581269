using FashionVision.IO;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>A grid of misclassified images captioned "true: X / pred: Y", most confident mistakes first when confidences are given.</summary>
public static class MistakeGrid
{
    /// <summary>Picks the misclassified images: indices where the true and predicted classes differ, most confident first when
    /// <paramref name="confidences"/> is given (index order otherwise), at most <paramref name="maxImages"/>.</summary>
    /// <param name="trueClasses">True class per image (int64, N).</param>
    /// <param name="predictedClasses">Predicted class per image (int64, N).</param>
    /// <param name="confidences">The predicted class's probability per image (N), or null.</param>
    /// <param name="maxImages">The most indices returned.</param>
    /// <returns>The chosen indices (int64, on the CPU; empty when there is no mistake).</returns>
    public static long[] SelectMistakes(Tensor trueClasses, Tensor predictedClasses, Tensor? confidences = null, int maxImages = 36)
    {
        ArgumentNullException.ThrowIfNull(trueClasses);
        ArgumentNullException.ThrowIfNull(predictedClasses);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxImages, 1);
        if (trueClasses.dim() != 1 || !trueClasses.shape.SequenceEqual(predictedClasses.shape))
            throw new ArgumentException($"Expected two class vectors of the same length, got [{string.Join(", ", trueClasses.shape)}] and [{string.Join(", ", predictedClasses.shape)}].", nameof(predictedClasses));
        if (confidences is not null && !confidences.shape.SequenceEqual(trueClasses.shape))
            throw new ArgumentException($"Expected one confidence per image, got shape [{string.Join(", ", confidences.shape)}].", nameof(confidences));
        using var scope = NewDisposeScope();
        var wrong = trueClasses.cpu().to_type(ScalarType.Int64).ne(predictedClasses.cpu().to_type(ScalarType.Int64)).nonzero().flatten();
        if (confidences is not null && wrong.shape[0] > 0)
            wrong = wrong.index_select(0, confidences.cpu().to_type(ScalarType.Float32).index_select(0, wrong).argsort(descending: true));
        return wrong[..(int)Math.Min(maxImages, wrong.shape[0])].data<long>().ToArray();
    }

    /// <summary>Renders the misclassified images as a captioned PNG grid; null when nothing is misclassified.</summary>
    /// <param name="images">Images N×C×H×W (float in [0, 1] or uint8).</param>
    /// <param name="trueClasses">True class per image (int64, N).</param>
    /// <param name="predictedClasses">Predicted class per image (int64, N).</param>
    /// <param name="classNames">Class names by index.</param>
    /// <param name="confidences">The predicted class's probability per image, or null; shown in the caption and used for ordering.</param>
    /// <param name="maxImages">The most images shown.</param>
    /// <param name="options">Grid layout; null for the defaults.</param>
    public static byte[]? RenderPng(Tensor images, Tensor trueClasses, Tensor predictedClasses, IReadOnlyList<string> classNames,
        Tensor? confidences = null, int maxImages = 36, ImageGridOptions? options = null)
    {
        TensorImages.ValidateBatch(images, nameof(images));
        ArgumentNullException.ThrowIfNull(classNames);
        if (trueClasses.shape.Length != 1 || trueClasses.shape[0] != images.shape[0])
            throw new ArgumentException($"Expected {images.shape[0]} true classes, got shape [{string.Join(", ", trueClasses.shape)}].", nameof(trueClasses));
        var chosen = SelectMistakes(trueClasses, predictedClasses, confidences, maxImages);
        if (chosen.Length == 0)
            return null;
        using var scope = NewDisposeScope();
        var index = tensor(chosen);
        var truth = trueClasses.cpu().to_type(ScalarType.Int64).index_select(0, index).data<long>().ToArray();
        var predicted = predictedClasses.cpu().to_type(ScalarType.Int64).index_select(0, index).data<long>().ToArray();
        var probability = confidences?.cpu().to_type(ScalarType.Float64).index_select(0, index).data<double>().ToArray();
        var named = ImageCaption.ForPredictions(truth, predicted, classNames);
        var captions = named.Select((c, i) => probability is null
            ? c
            : ImageCaption.ForPrediction(classNames[(int)truth[i]], classNames[(int)predicted[i]], probability[i])).ToArray();
        var selected = images.index_select(0, index.to(images.device));
        return ImageGrid.RenderPng(selected, captions, options ?? new ImageGridOptions(Columns: Math.Min(6, chosen.Length)));
    }

    /// <summary>Writes the grid of misclassified images to a PNG file atomically; returns false (and writes nothing) when
    /// nothing is misclassified.</summary>
    /// <param name="images">Images N×C×H×W.</param>
    /// <param name="trueClasses">True class per image.</param>
    /// <param name="predictedClasses">Predicted class per image.</param>
    /// <param name="classNames">Class names by index.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="confidences">The predicted class's probability per image, or null.</param>
    /// <param name="maxImages">The most images shown.</param>
    /// <param name="options">Grid layout; null for the defaults.</param>
    public static bool SavePng(Tensor images, Tensor trueClasses, Tensor predictedClasses, IReadOnlyList<string> classNames, string path,
        Tensor? confidences = null, int maxImages = 36, ImageGridOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var png = RenderPng(images, trueClasses, predictedClasses, classNames, confidences, maxImages, options);
        if (png is null)
            return false;
        AtomicFile.WriteAllBytes(path, png);
        return true;
    }
}
