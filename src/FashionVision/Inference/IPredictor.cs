namespace FashionVision.Inference;

/// <summary>
/// Classifies images. Implementations are safe to call from many threads at once and apply the model's own preprocessing
/// (normalization), so callers pass raw pixel intensities.
/// </summary>
public interface IPredictor : IDisposable
{
    /// <summary>The class names, in class-index order.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The input the model expects: channels, height, width.</summary>
    (int Channels, int Height, int Width) InputShape { get; }

    /// <summary>Classifies a batch of images.</summary>
    /// <param name="pixels">Pixel intensities in [0, 1], laid out N×C×H×W (row-major) with C, H, W equal to <see cref="InputShape"/>.</param>
    /// <param name="count">The number of images N.</param>
    /// <param name="topK">How many classes each <see cref="Prediction.TopK"/> lists.</param>
    /// <returns>One prediction per image.</returns>
    IReadOnlyList<Prediction> Predict(ReadOnlySpan<float> pixels, int count, int topK = 3);
}
