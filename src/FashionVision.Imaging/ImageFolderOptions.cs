using Microsoft.Extensions.Logging;

namespace FashionVision.Imaging;

/// <summary>How a folder of images is organised.</summary>
public enum ImageFolderLayout
{
    /// <summary><see cref="TrainTest"/> when the root holds <c>train</c> and <c>test</c> folders of class folders, otherwise <see cref="ClassFolders"/>.</summary>
    Auto,

    /// <summary><c>root/&lt;class&gt;/*.png</c>: one dataset (the training split), like torchvision's ImageFolder.</summary>
    ClassFolders,

    /// <summary><c>root/train/&lt;class&gt;/*.png</c> and <c>root/test/&lt;class&gt;/*.png</c>: the two splits.</summary>
    TrainTest,
}

/// <summary>Progress of decoding a set of image files.</summary>
/// <param name="Decoded">Files handled so far (decoded or found bad).</param>
/// <param name="Total">Files to handle.</param>
public readonly record struct ImageDecodeProgress(int Decoded, int Total);

/// <summary>How a folder of image files becomes a dataset: decoding, layout, parallelism, bad files and the cache.</summary>
public sealed record ImageFolderOptions
{
    /// <summary>The file extensions read by default (compared case-insensitively).</summary>
    public static readonly IReadOnlyList<string> DefaultExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"];

    /// <summary>
    /// Size, channels, colour, inversion and fitting (default <see cref="ImageDecodeOptions.Raw"/>: 28×28 grayscale, resized
    /// whole, not inverted, so images already in the MNIST style are read exactly).
    /// </summary>
    public ImageDecodeOptions Decode { get; init; } = ImageDecodeOptions.Raw;

    /// <summary>
    /// Resize every image to <see cref="Decode"/>'s size (default true). False: images keep their own size, which must be
    /// the same for all (a different one is a bad file), and fitting must be <see cref="FitMode.None"/>.
    /// </summary>
    public bool Resize { get; init; } = true;

    /// <summary>The folder layout (default: detected).</summary>
    public ImageFolderLayout Layout { get; init; } = ImageFolderLayout.Auto;

    /// <summary>The file extensions that count as images; other files are ignored.</summary>
    public IReadOnlyList<string> Extensions { get; init; } = DefaultExtensions;

    /// <summary>How many files are decoded at once (default: the processor count).</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Follow directory links (symbolic links, junctions) inside class folders (default false: they are skipped with a
    /// logged warning). Followed links are checked by their real paths: one that leads out of the dataset folder, back
    /// into a folder that contains it (a loop), or into a class folder or a folder another link reached (images read twice
    /// or under two labels) raises a <see cref="DirectoryLinkException"/> naming it.
    /// </summary>
    public bool FollowDirectoryLinks { get; init; }

    /// <summary>Leave out files that cannot be decoded (logged as warnings and counted) instead of failing on the first (default false).</summary>
    public bool SkipBadFiles { get; init; }

    /// <summary>
    /// Keep the decoded images as IDX files and read those while the folder is unchanged (default true). The cache is keyed by
    /// the file list, sizes and modification times and by these options, so any change decodes again.
    /// </summary>
    public bool UseCache { get; init; } = true;

    /// <summary>
    /// Where the cache goes: null (the default) for a <c>.fashionvision-cache</c> folder inside the data folder, or the
    /// per-user cache when the data folder is read-only; otherwise this folder (one subfolder per data folder).
    /// </summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Compress the cached IDX files with gzip (default false: larger files, faster loads).</summary>
    public bool CompressCache { get; init; }

    /// <summary>Receives warnings about skipped files and what was loaded from where.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Receives decoding progress (not called when a split comes from the cache).</summary>
    public IProgress<ImageDecodeProgress>? Progress { get; init; }

    /// <summary>The dataset's name (default: the folder's name).</summary>
    public string? Name { get; init; }

    internal void Validate(string paramName)
    {
        ArgumentNullException.ThrowIfNull(Decode, paramName);
        Decode.Validate(paramName);
        if (!Resize && Decode.Fit != FitMode.None)
            throw new ArgumentException($"Fitting ({Decode.Fit}) changes the image size; it needs {nameof(Resize)} = true.", paramName);
        if (!Enum.IsDefined(Layout))
            throw new ArgumentOutOfRangeException(paramName, Layout, $"Unknown {nameof(Layout)}.");
        if (Extensions is null || Extensions.Count == 0 || Extensions.Any(e => string.IsNullOrWhiteSpace(e) || !e.StartsWith('.')))
            throw new ArgumentException($"{nameof(Extensions)} must list at least one extension, each starting with '.'.", paramName);
        if (MaxDegreeOfParallelism < 1)
            throw new ArgumentOutOfRangeException(paramName, MaxDegreeOfParallelism, $"{nameof(MaxDegreeOfParallelism)} must be at least 1.");
    }
}
