using Microsoft.Extensions.Logging;

namespace FashionVision.Data;

/// <summary>Where a dataset source looks for its files and how it downloads them.</summary>
/// <remarks>
/// Files are looked for, in order, in <see cref="DataDirectory"/>, the folder named by the <c>FASHIONVISION_DATA</c>
/// environment variable, <see cref="CacheDirectory"/>, and the system folders of the dataset (Debian's
/// <c>/usr/share/datasets/fashion-mnist</c>); each folder is searched directly and in a subfolder named after the dataset.
/// When none holds every file and <see cref="AllowDownload"/> is set, the files are downloaded into the cache.
/// </remarks>
public sealed record DatasetOptions
{
    /// <summary>The name of the environment variable that points at a data folder.</summary>
    public const string DataDirectoryVariable = "FASHIONVISION_DATA";

    /// <summary>A folder to look in first.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The per-user cache folder (default: <c>$XDG_CACHE_HOME/fashionvision</c> or <c>~/.cache/fashionvision</c>; LocalApplicationData on Windows).</summary>
    public string CacheDirectory { get; init; } = DefaultCacheDirectory();

    /// <summary>Download missing files from the dataset's mirrors (default true).</summary>
    public bool AllowDownload { get; init; } = true;

    /// <summary>Check the SHA-256 of located files' decompressed content too, not only of downloads (default false).</summary>
    public bool VerifyChecksums { get; init; }

    /// <summary>Mirrors to download from instead of the dataset's canonical ones (base URLs ending in '/').</summary>
    public IReadOnlyList<Uri>? Mirrors { get; init; }

    /// <summary>The HTTP client to download with (default: a shared client).</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>Attempts per file and mirror before moving on (default 3).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The pause before a retry, doubled after each failure (default 1 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Receives download progress.</summary>
    public IProgress<DownloadProgress>? Progress { get; init; }

    /// <summary>Receives what the source does (where files were found, downloads, retries).</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Look in the system folders (default true; tests turn it off).</summary>
    public bool SearchSystemFolders { get; init; } = true;

    /// <summary>The default per-user cache folder.</summary>
    public static string DefaultCacheDirectory()
    {
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "FashionVision");
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "fashionvision");
    }
}

/// <summary>Progress of one file's download.</summary>
/// <param name="FileName">The file being downloaded.</param>
/// <param name="BytesReceived">Bytes received so far.</param>
/// <param name="TotalBytes">The size the server announced, if any.</param>
public readonly record struct DownloadProgress(string FileName, long BytesReceived, long? TotalBytes);
