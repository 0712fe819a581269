using System.IO.Compression;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// A dataset made of four IDX files (train/test images and labels), like MNIST and its drop-in replacements. A variant is a
/// small subclass that names its files, checksums, mirrors and classes.
/// </summary>
public abstract class IdxDatasetSource : IDatasetSource
{
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient { Timeout = TimeSpan.FromMinutes(5) });
    private readonly ILogger _logger;

    /// <summary>Creates the source.</summary>
    protected IdxDatasetSource(DatasetOptions? options)
    {
        Options = options ?? new DatasetOptions();
        if (Options.MaxAttempts <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxAttempts, "MaxAttempts must be positive.");
        _logger = Options.Logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public abstract IReadOnlyList<string> ClassNames { get; }

    /// <summary>The dataset's files and their checksums.</summary>
    public abstract IdxDatasetFiles Files { get; }

    /// <summary>The canonical download locations (base URLs ending in '/').</summary>
    public abstract IReadOnlyList<Uri> DefaultMirrors { get; }

    /// <summary>System-wide folders where a distribution package installs the files.</summary>
    protected virtual IReadOnlyList<string> SystemFolders => Array.Empty<string>();

    /// <summary>The options in force.</summary>
    public DatasetOptions Options { get; }

    /// <inheritdoc />
    public InMemoryDataset Load(DatasetSplit split, CancellationToken cancellationToken = default)
    {
        Native.TorchRuntime.EnsureInitialized();
        string folder = EnsureAvailable(cancellationToken);
        var (imagesFile, labelsFile) = Files.For(split);
        string imagesPath = FindFile(folder, imagesFile)!;
        string labelsPath = FindFile(folder, labelsFile)!;
        if (Options.VerifyChecksums)
        {
            VerifyFile(imagesPath, imagesFile);
            VerifyFile(labelsPath, labelsFile);
        }

        var images = IdxReader.ReadImages(imagesPath);
        Tensor labels;
        try
        {
            labels = IdxReader.ReadLabels(labelsPath);
        }
        catch
        {
            images.Dispose();
            throw;
        }
        try
        {
            if (images.shape[0] != labels.shape[0])
                throw new DatasetFormatException(labelsPath, $"holds {labels.shape[0]:N0} labels but {imagesPath} holds {images.shape[0]:N0} images");
            if (labels.numel() > 0)
            {
                long max = labels.max().item<long>();
                if (max >= ClassNames.Count)
                    throw new DatasetFormatException(labelsPath, $"label {max} is outside the {ClassNames.Count} classes of {Name}");
            }
            _logger.LogInformation("Loaded {Dataset}/{Split}: {Count} images from {Folder}", Name, split, images.shape[0], folder);
            return new InMemoryDataset(images, labels, ClassNames, $"{Name}/{split.ToString().ToLowerInvariant()}");
        }
        catch
        {
            images.Dispose();
            labels.Dispose();
            throw;
        }
    }

    /// <summary>The folders searched, in order, before downloading.</summary>
    public IReadOnlyList<string> SearchFolders()
    {
        var roots = new List<string>();
        if (!string.IsNullOrWhiteSpace(Options.DataDirectory))
            roots.Add(Options.DataDirectory);
        var fromEnvironment = Environment.GetEnvironmentVariable(DatasetOptions.DataDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            roots.Add(fromEnvironment);
        roots.Add(Options.CacheDirectory);
        var folders = new List<string>();
        foreach (var root in roots)
        {
            folders.Add(root);
            folders.Add(Path.Combine(root, Name));
        }
        if (Options.SearchSystemFolders)
            folders.AddRange(SystemFolders);
        return folders.Distinct().ToList();
    }

    /// <summary>The first folder holding all four files, or null.</summary>
    public string? Locate() => SearchFolders().FirstOrDefault(f => Files.All.All(file => FindFile(f, file) is not null));

    /// <summary>Returns a folder holding all four files, downloading them into the cache if needed and allowed.</summary>
    /// <exception cref="DatasetFormatException">The files are not found and cannot be downloaded.</exception>
    public string EnsureAvailable(CancellationToken cancellationToken = default)
    {
        var found = Locate();
        if (found is not null)
            return found;
        string cache = Path.Combine(Options.CacheDirectory, Name);
        if (!Options.AllowDownload)
        {
            throw new DatasetFormatException(cache,
                $"the {Name} files were not found in any of [{string.Join(", ", SearchFolders())}] and downloading is off");
        }
        DownloadAsync(cancellationToken).GetAwaiter().GetResult();
        return cache;
    }

    /// <summary>
    /// Downloads every missing file into the cache folder, retrying and trying each mirror in turn; each file is verified
    /// against its checksum before it is moved (atomically) into place, so the cache never holds a partial or corrupt file.
    /// </summary>
    /// <exception cref="DatasetFormatException">A file could not be downloaded intact from any mirror.</exception>
    public async Task DownloadAsync(CancellationToken cancellationToken = default)
    {
        string cache = Path.Combine(Options.CacheDirectory, Name);
        Directory.CreateDirectory(cache);
        var client = Options.HttpClient ?? SharedClient.Value;
        var mirrors = Options.Mirrors ?? DefaultMirrors;
        foreach (var file in Files.All)
        {
            if (FindFile(cache, file) is not null)
                continue;
            await DownloadFileAsync(client, mirrors, cache, file, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Checks every located file against its checksum; returns each file's path and whether it matched.</summary>
    /// <exception cref="DatasetFormatException">The files are not found.</exception>
    public IReadOnlyList<(string Path, bool Intact)> Verify()
    {
        var folder = Locate() ?? throw new DatasetFormatException(Path.Combine(Options.CacheDirectory, Name), $"the {Name} files were not found");
        return Files.All.Select(file =>
        {
            var path = FindFile(folder, file)!;
            return (path, HashDecompressed(path) == file.Sha256);
        }).ToList();
    }

    private async Task DownloadFileAsync(HttpClient client, IReadOnlyList<Uri> mirrors, string cache, DatasetFile file, CancellationToken cancellationToken)
    {
        string remoteName = file.Name + ".gz";
        string finalPath = Path.Combine(cache, remoteName);
        var failures = new List<string>();
        foreach (var mirror in mirrors)
        {
            var url = new Uri(mirror, remoteName);
            var delay = Options.RetryDelay;
            for (int attempt = 1; attempt <= Options.MaxAttempts; attempt++)
            {
                string temporary = Path.Combine(cache, $".{remoteName}.{Guid.NewGuid():N}.part");
                try
                {
                    _logger.LogInformation("Downloading {Url} (attempt {Attempt}/{MaxAttempts})", url, attempt, Options.MaxAttempts);
                    await DownloadToAsync(client, url, temporary, file.Name, cancellationToken).ConfigureAwait(false);
                    string hash = HashDecompressed(temporary);
                    if (hash != file.Sha256)
                        throw new InvalidDataException($"checksum mismatch: expected {file.Sha256}, got {hash}");
                    File.Move(temporary, finalPath, overwrite: true);
                    return;
                }
                catch (Exception e) when (e is HttpRequestException or IOException or InvalidDataException or DatasetFormatException
                                              || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    failures.Add($"{url} (attempt {attempt}): {e.Message}");
                    _logger.LogWarning("Download of {Url} failed: {Message}", url, e.Message);
                }
                finally
                {
                    if (File.Exists(temporary))
                        File.Delete(temporary);
                }
                if (attempt < Options.MaxAttempts)
                {
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    delay *= 2;
                }
            }
        }
        throw new DatasetFormatException(finalPath, $"could not be downloaded intact: {string.Join("; ", failures)}");
    }

    private async Task DownloadToAsync(HttpClient client, Uri url, string path, string fileName, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        long? total = response.Content.Headers.ContentLength;
        await using var source = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var target = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        var buffer = new byte[1 << 16];
        long received = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            received += read;
            Options.Progress?.Report(new DownloadProgress(fileName, received, total));
        }
        if (total is long expected && received != expected)
            throw new IOException($"the response ended after {received:N0} of {expected:N0} bytes");
    }

    /// <summary>The path of <paramref name="file"/> in <paramref name="folder"/> (raw or .gz), or null.</summary>
    protected static string? FindFile(string folder, DatasetFile file)
    {
        foreach (var candidate in new[] { file.Name, file.Name + ".gz" })
        {
            var path = Path.Combine(folder, candidate);
            if (File.Exists(path))
                return path;
        }
        return null;
    }

    private static void VerifyFile(string path, DatasetFile file)
    {
        var hash = HashDecompressed(path);
        if (hash != file.Sha256)
            throw new DatasetFormatException(path, $"checksum mismatch: expected SHA-256 {file.Sha256} of the content, got {hash}");
    }

    /// <summary>The SHA-256 (lower-case hex) of a file's content after gzip decompression, if it is compressed.</summary>
    /// <exception cref="DatasetFormatException">The file is a corrupt gzip stream.</exception>
    public static string HashDecompressed(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> signature = stackalloc byte[2];
        int read = file.Read(signature);
        file.Position = 0;
        try
        {
            using Stream content = IdxReader.IsGzip(signature[..read]) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"corrupt gzip stream: {e.Message}", e);
        }
    }
}
