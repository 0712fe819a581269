using Microsoft.Extensions.Logging;

namespace FashionVision.Data;

/// <summary>Whether the first line of a CSV file names the columns.</summary>
public enum CsvHeader
{
    /// <summary>The first line is a header when one of its fields is not a number (Kaggle's <c>label,pixel1,...</c>).</summary>
    Auto,

    /// <summary>The first line is always a header.</summary>
    Present,

    /// <summary>Every line is data.</summary>
    Absent,
}

/// <summary>How a CSV file of images is laid out: the image shape, the header, the labels and the classes.</summary>
/// <remarks>
/// Each data row is <c>label,p1,...,pN</c> (or <c>p1,...,pN</c> without labels) with N = <see cref="Channels"/> ×
/// <see cref="Height"/> × <see cref="Width"/> integer pixel values in 0–255, in C×H×W order (channel planes, each row by row),
/// as in Kaggle's Fashion-MNIST and MNIST files. Blank lines are ignored.
/// </remarks>
public sealed record CsvDatasetOptions
{
    /// <summary>Channels per image (default 1).</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Image height in pixels (default 28).</summary>
    public int Height { get; init; } = 28;

    /// <summary>Image width in pixels (default 28).</summary>
    public int Width { get; init; } = 28;

    /// <summary>Whether the first line is a header (default: detected).</summary>
    public CsvHeader Header { get; init; } = CsvHeader.Auto;

    /// <summary>
    /// Whether the first column is the label (default true). False: every column is a pixel and every label is 0 (files to
    /// predict on). Null: decided by the column count of the first line.
    /// </summary>
    public bool? HasLabels { get; init; } = true;

    /// <summary>The class names in label order; null for "0", "1", ... up to the largest label in the source's files.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>Leave out rows that cannot be used (logged as warnings and counted) instead of failing on the first (default false).</summary>
    public bool SkipBadRows { get; init; }

    /// <summary>Receives warnings about skipped rows and what was loaded.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The dataset's name (default: the training file's name without its extension).</summary>
    public string? Name { get; init; }

    /// <summary>Pixels per image.</summary>
    public int PixelCount => Channels * Height * Width;

    internal void Validate(string paramName)
    {
        if (Channels is < 1 or > 4)
            throw new ArgumentOutOfRangeException(paramName, Channels, $"{nameof(Channels)} must be between 1 and 4.");
        if (Height is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(paramName, Height, $"{nameof(Height)} must be between 1 and 4096.");
        if (Width is < 1 or > 4096)
            throw new ArgumentOutOfRangeException(paramName, Width, $"{nameof(Width)} must be between 1 and 4096.");
        if (!Enum.IsDefined(Header))
            throw new ArgumentOutOfRangeException(paramName, Header, $"Unknown {nameof(Header)} mode.");
        if (ClassNames is { Count: 0 })
            throw new ArgumentException($"{nameof(ClassNames)} must name at least one class, or be null.", paramName);
    }
}
