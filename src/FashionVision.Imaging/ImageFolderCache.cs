using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FashionVision.Data;
using FashionVision.IO;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Imaging;

/// <summary>
/// Keeps a decoded split of an image folder as IDX files (images N×C×H×W, labels) plus a small manifest, and reads it back
/// while the folder and the options are unchanged. The key hashes the file list (relative paths, sizes, modification times),
/// the class names and every option that changes the pixels, so any change misses the cache and decodes again.
/// </summary>
internal sealed class ImageFolderCache
{
    /// <summary>The cache folder inside a data folder (hidden, so it is never taken for a class).</summary>
    public const string FolderName = ".fashionvision-cache";

    private const string Format = "fashionvision-image-folder-cache";
    private const int Version = 1;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly string _root;
    private readonly ImageFolderOptions _options;
    private readonly ILogger _logger;

    public ImageFolderCache(string root, ImageFolderOptions options, ILogger logger)
    {
        _root = root;
        _options = options;
        _logger = logger;
    }

    /// <summary>The folders tried, in order: beside the data (unless a cache folder is configured), then the per-user or configured cache.</summary>
    public IReadOnlyList<string> Folders
    {
        get
        {
            string keyed = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(_root)))[..16].ToLowerInvariant();
            string elsewhere = Path.Combine(_options.CacheDirectory ?? Path.Combine(DatasetOptions.DefaultCacheDirectory(), "image-folders"), keyed);
            return _options.CacheDirectory is null ? [Path.Combine(_root, FolderName), elsewhere] : [elsewhere];
        }
    }

    /// <summary>The key of a split: a hash of its files, classes and the decoding options.</summary>
    public string Key(string split, IReadOnlyList<FileInfo> files, IReadOnlyList<string> classNames)
    {
        var text = new StringBuilder();
        var decode = _options.Decode;
        text.Append(CultureInfo.InvariantCulture, $"{Format} {Version}\n{split}\n{decode}\nresize={_options.Resize} skip={_options.SkipBadFiles}\n");
        text.AppendJoin('\n', classNames).Append('\n');
        foreach (var file in files)
            text.Append(CultureInfo.InvariantCulture, $"{Path.GetRelativePath(_root, file.FullName)}\t{file.Length}\t{file.LastWriteTimeUtc.Ticks}\n");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..24].ToLowerInvariant();
    }

    /// <summary>The cached split under <paramref name="key"/>, or null when there is none or it is unusable (then it is rebuilt).</summary>
    public (InMemoryDataset Dataset, IReadOnlyList<string> Files, IReadOnlyList<SkippedInput> Skipped)? TryRead(string split, string key, IReadOnlyList<string> classNames, string datasetName)
    {
        foreach (var folder in Folders)
        {
            string manifestPath = Path.Combine(folder, $"{split}-{key}.json");
            if (!File.Exists(manifestPath))
                continue;
            Tensor? images = null, labels = null;
            try
            {
                var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath), Json)
                    ?? throw new InvalidDataException("the manifest is empty");
                if (manifest.Format != Format || manifest.Version != Version || manifest.Key != key || !manifest.ClassNames.SequenceEqual(classNames))
                    throw new InvalidDataException("the manifest does not match");
                images = IdxReader.Read(FindData(folder, split, key, "images"));
                labels = IdxReader.ReadLabels(FindData(folder, split, key, "labels"));
                if (images.dim() != 4 || images.shape[0] != manifest.Files.Count || labels.shape[0] != manifest.Files.Count)
                    throw new InvalidDataException("the files hold other counts than the manifest");
                var dataset = new InMemoryDataset(images, labels, classNames, datasetName);
                var files = manifest.Files.Select(f => Path.GetFullPath(Path.Combine(_root, f))).ToList();
                var skipped = manifest.Skipped.Select(s => new SkippedInput(Path.GetFullPath(Path.Combine(_root, s.File)), null, s.Problem)).ToList();
                _logger.LogInformation("Loaded {Dataset} from the cache {Folder}", datasetName, folder);
                return (dataset, files, skipped);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException or DatasetFormatException or ArgumentException)
            {
                images?.Dispose();
                labels?.Dispose();
                _logger.LogWarning("The cache {Manifest} is unusable ({Problem}); decoding the images again", manifestPath, e.Message);
            }
        }
        return null;
    }

    /// <summary>Writes a split under <paramref name="key"/> into the first cache folder that can be written, and removes the split's older entries there.</summary>
    public void Write(string split, string key, InMemoryDataset dataset, IReadOnlyList<string> files, IReadOnlyList<SkippedInput> skipped)
    {
        if (dataset.NumClasses > byte.MaxValue + 1)
        {
            _logger.LogInformation("{Dataset} has {Classes} classes, more than IDX label files hold; it is not cached", dataset.Name, dataset.NumClasses);
            return;
        }
        string extension = _options.CompressCache ? ".idx.gz" : ".idx";
        foreach (var folder in Folders)
        {
            try
            {
                Directory.CreateDirectory(folder);
                IdxWriter.Write(Path.Combine(folder, $"{split}-{key}.images{extension}"), dataset.Images, _options.CompressCache);
                IdxWriter.WriteLabels(Path.Combine(folder, $"{split}-{key}.labels{extension}"), dataset.Labels, _options.CompressCache);
                var manifest = new Manifest(Format, Version, key, dataset.ClassNames.ToList(),
                    files.Select(f => Path.GetRelativePath(_root, f)).ToList(),
                    skipped.Select(s => new SkippedEntry(Path.GetRelativePath(_root, s.FilePath), s.Problem)).ToList());
                // The manifest goes last: a cache entry without one is never read.
                AtomicFile.WriteAllText(Path.Combine(folder, $"{split}-{key}.json"), JsonSerializer.Serialize(manifest, Json));
                RemoveStale(folder, split, key);
                _logger.LogInformation("Cached {Dataset} in {Folder}", dataset.Name, folder);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.LogInformation("Cannot cache {Dataset} in {Folder} ({Problem})", dataset.Name, folder, e.Message);
            }
        }
        _logger.LogWarning("{Dataset} could not be cached anywhere; it will be decoded again next time", dataset.Name);
    }

    private static string FindData(string folder, string split, string key, string part)
    {
        string raw = Path.Combine(folder, $"{split}-{key}.{part}.idx");
        return File.Exists(raw) ? raw : raw + ".gz";
    }

    private static void RemoveStale(string folder, string split, string key)
    {
        foreach (var file in Directory.EnumerateFiles(folder, $"{split}-*"))
        {
            if (!Path.GetFileName(file).StartsWith($"{split}-{key}.", StringComparison.Ordinal))
                File.Delete(file);
        }
    }

    private sealed record Manifest(string Format, int Version, string Key, List<string> ClassNames, List<string> Files, List<SkippedEntry> Skipped);

    private sealed record SkippedEntry(string File, string Problem);
}
