using SkiaSharp;

namespace FashionVision.Visualization;

/// <summary>A caption under one image of a grid.</summary>
/// <param name="Text">The text; <c>\n</c> starts a new line. Lines too wide for the cell are drawn smaller, then shortened with an ellipsis.</param>
/// <param name="IsError">Draws the caption in <see cref="ImageGridOptions.ErrorColor"/> (red by default) instead of the normal text colour.</param>
public sealed record ImageCaption(string Text, bool IsError = false)
{
    /// <summary>A caption for a classified image: "true: X" and "pred: Y" on two lines, marked as an error when they differ.</summary>
    /// <param name="trueClass">The true class name.</param>
    /// <param name="predictedClass">The predicted class name.</param>
    /// <param name="confidence">The predicted class's probability, appended as a percentage when given.</param>
    public static ImageCaption ForPrediction(string trueClass, string predictedClass, double? confidence = null)
    {
        ArgumentNullException.ThrowIfNull(trueClass);
        ArgumentNullException.ThrowIfNull(predictedClass);
        var predicted = confidence is { } p ? $"{predictedClass} ({(100 * p).ToString("0", System.Globalization.CultureInfo.InvariantCulture)}%)" : predictedClass;
        return new ImageCaption($"true: {trueClass}\npred: {predicted}", !string.Equals(trueClass, predictedClass, StringComparison.Ordinal));
    }

    /// <summary>Captions for a batch of predictions given as class indices.</summary>
    /// <param name="trueClasses">True class index per image.</param>
    /// <param name="predictedClasses">Predicted class index per image.</param>
    /// <param name="classNames">Class names by index.</param>
    public static IReadOnlyList<ImageCaption> ForPredictions(IReadOnlyList<long> trueClasses, IReadOnlyList<long> predictedClasses, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(trueClasses);
        ArgumentNullException.ThrowIfNull(predictedClasses);
        ArgumentNullException.ThrowIfNull(classNames);
        if (trueClasses.Count != predictedClasses.Count)
            throw new ArgumentException($"{trueClasses.Count} true classes but {predictedClasses.Count} predicted classes.", nameof(predictedClasses));
        var captions = new ImageCaption[trueClasses.Count];
        for (var i = 0; i < captions.Length; i++)
            captions[i] = ForPrediction(Name(trueClasses[i], nameof(trueClasses)), Name(predictedClasses[i], nameof(predictedClasses)));
        return captions;

        string Name(long index, string paramName) => index >= 0 && index < classNames.Count
            ? classNames[(int)index]
            : throw new ArgumentOutOfRangeException(paramName, index, $"Class index outside [0, {classNames.Count}).");
    }
}

/// <summary>Layout and colours of an image grid.</summary>
/// <param name="Columns">Images per row; null picks about the square root of the count (at most 10).</param>
/// <param name="Scale">Nearest-neighbour upscaling factor, so that a 28×28 image is visible (4 → 112×112).</param>
/// <param name="Padding">Pixels between and around cells.</param>
/// <param name="CaptionFontSize">Caption font size in pixels.</param>
/// <param name="Title">A title above the grid, or null for none.</param>
public sealed record ImageGridOptions(int? Columns = null, int Scale = 4, int Padding = 6, float CaptionFontSize = 13f, string? Title = null)
{
    /// <summary>The background colour.</summary>
    public SKColor Background { get; init; } = SKColors.White;

    /// <summary>The colour of ordinary captions.</summary>
    public SKColor TextColor { get; init; } = new(0x20, 0x20, 0x20);

    /// <summary>The colour of captions marked <see cref="ImageCaption.IsError"/>.</summary>
    public SKColor ErrorColor { get; init; } = new(0xD0, 0x10, 0x10);

    internal void Validate(string paramName)
    {
        if (Columns is <= 0)
            throw new ArgumentOutOfRangeException(paramName, Columns, $"{nameof(Columns)} must be positive.");
        if (Scale is < 1 or > 64)
            throw new ArgumentOutOfRangeException(paramName, Scale, $"{nameof(Scale)} must be between 1 and 64.");
        if (Padding is < 0 or > 256)
            throw new ArgumentOutOfRangeException(paramName, Padding, $"{nameof(Padding)} must be between 0 and 256.");
        if (!(CaptionFontSize is >= 4f and <= 200f))
            throw new ArgumentOutOfRangeException(paramName, CaptionFontSize, $"{nameof(CaptionFontSize)} must be between 4 and 200.");
    }
}
