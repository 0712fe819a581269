using FashionVision.Inference;

namespace FashionVision.Imaging;

/// <summary>Predicts from image files and encoded images: decodes them with <see cref="ImageDecoder"/> at the predictor's input size.</summary>
public static class PredictorImageExtensions
{
    /// <summary>Classifies one image file.</summary>
    /// <param name="predictor">The predictor.</param>
    /// <param name="path">A PNG, JPEG, BMP, GIF or WebP file.</param>
    /// <param name="options">Inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>. Width, height and channels are taken from <see cref="IPredictor.InputShape"/>.</param>
    /// <param name="topK">How many classes the prediction's top-k lists.</param>
    /// <exception cref="ImageDecodeException">The file cannot be decoded.</exception>
    public static Prediction PredictImage(this IPredictor predictor, string path, ImageDecodeOptions? options = null, int topK = 3)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        return predictor.Predict(ImageDecoder.Decode(path, ForPredictor(predictor, options)), 1, topK)[0];
    }

    /// <summary>Classifies one encoded image held in memory.</summary>
    /// <param name="predictor">The predictor.</param>
    /// <param name="bytes">The encoded image.</param>
    /// <param name="options">Inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <param name="topK">How many classes the prediction's top-k lists.</param>
    /// <exception cref="ImageDecodeException">The bytes cannot be decoded.</exception>
    public static Prediction PredictImage(this IPredictor predictor, byte[] bytes, ImageDecodeOptions? options = null, int topK = 3)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        return predictor.Predict(ImageDecoder.Decode(bytes, ForPredictor(predictor, options)), 1, topK)[0];
    }

    /// <summary>Classifies several image files in one batch.</summary>
    /// <param name="predictor">The predictor.</param>
    /// <param name="paths">The image files.</param>
    /// <param name="options">Inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <param name="topK">How many classes each prediction's top-k lists.</param>
    /// <exception cref="ImageDecodeException">A file cannot be decoded (the message names it).</exception>
    public static IReadOnlyList<Prediction> PredictImages(this IPredictor predictor, IReadOnlyList<string> paths, ImageDecodeOptions? options = null, int topK = 3)
    {
        ArgumentNullException.ThrowIfNull(predictor);
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
            return [];
        return predictor.Predict(ImageDecoder.DecodeMany(paths, ForPredictor(predictor, options)), paths.Count, topK);
    }

    private static ImageDecodeOptions ForPredictor(IPredictor predictor, ImageDecodeOptions? options)
    {
        var (channels, height, width) = predictor.InputShape;
        return (options ?? ImageDecodeOptions.FashionMnist) with { Channels = channels, Height = height, Width = width };
    }
}
