using FashionVision.Data;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Imaging;

/// <summary>
/// A dataset made of image files, one folder per class, like torchvision's ImageFolder: <c>root/&lt;class&gt;/*.png</c>
/// (one split), or <c>root/train/&lt;class&gt;/…</c> and <c>root/test/&lt;class&gt;/…</c>. Class names are the folder names
/// in ordinal order; files are read in path order. PNG, JPEG, BMP, WebP and GIF files are decoded in parallel
/// (<see cref="ImageFiles.Decode(IReadOnlyList{string}, ImageFolderOptions?, CancellationToken)"/>), resized to one size
/// (default 28×28 grayscale), into an <see cref="InMemoryDataset"/>, and cached as IDX files so that the next load of an
/// unchanged folder reads those instead.
/// </summary>
/// <remarks>
/// Bad data raises a <see cref="DatasetFormatException"/> naming the file or folder: an image that is unreadable, truncated,
/// empty or not an image despite its extension, a class folder with no images, a root without class folders, and (with
/// resizing off) an image of another size than the first. With <see cref="ImageFolderOptions.SkipBadFiles"/>, bad image
/// files are left out with a logged warning and counted in <see cref="DatasetLoadResult.Skipped"/>; folder problems still fail.
/// Hidden files and folders (the cache's included) and files with other extensions are ignored. Directory links (symbolic
/// links, junctions) are not followed: each is skipped with a logged warning, so a link back to a parent cannot loop and a
/// link to another class cannot label its images twice. With <see cref="ImageFolderOptions.FollowDirectoryLinks"/> they are
/// followed, and one that leads out of the root, back into a folder containing it, or into images read anyway raises a
/// <see cref="DirectoryLinkException"/> naming it.
/// </remarks>
public sealed class ImageFolderSource : IDatasetSource
{
    /// <summary>The training split's folder in the train/test layout.</summary>
    public const string TrainFolder = "train";

    /// <summary>The test split's folder in the train/test layout.</summary>
    public const string TestFolder = "test";

    private readonly ILogger _logger;
    private readonly ImageFolderCache _cache;
    private readonly HashSet<string> _warnedLinks = new(StringComparer.Ordinal);
    private IReadOnlyList<string>? _classNames;
    private FolderTree? _tree;

    /// <summary>Creates the source (the folder is looked at now; images are decoded by <see cref="Load"/>).</summary>
    /// <param name="root">The dataset folder.</param>
    /// <param name="options">Decoding, layout, bad files and cache; null for the defaults.</param>
    /// <exception cref="DatasetFormatException">The folder does not exist, or the train/test layout was asked for and is not there.</exception>
    public ImageFolderSource(string root, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Options = options ?? new ImageFolderOptions();
        Options.Validate(nameof(options));
        Root = Path.GetFullPath(root);
        if (!Directory.Exists(Root))
            throw new DatasetFormatException(Root, "the folder does not exist");
        Name = Options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Root));
        Layout = ResolveLayout(Root, Options.Layout);
        _logger = Options.Logger ?? NullLogger.Instance;
        _cache = new ImageFolderCache(Root, Options, _logger);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The dataset folder (absolute).</summary>
    public string Root { get; }

    /// <summary>The layout found (never <see cref="ImageFolderLayout.Auto"/>).</summary>
    public ImageFolderLayout Layout { get; }

    /// <summary>The options in force.</summary>
    public ImageFolderOptions Options { get; }

    /// <summary>The class folder names in ordinal order (of the training split's folder in the train/test layout).</summary>
    /// <exception cref="DatasetFormatException">The folder holds no class folders.</exception>
    public IReadOnlyList<string> ClassNames => _classNames ??= ClassFolders(SplitFolder(DatasetSplit.Train)).Select(Path.GetFileName).ToList()!;

    /// <summary>The walk of the class folders, bounded by the root, which knows every folder that is read (all splits).</summary>
    private FolderTree Tree => _tree ??= CreateTree();

    /// <summary>Whether the folder has <paramref name="split"/>: the test split exists only in the train/test layout.</summary>
    public bool HasSplit(DatasetSplit split) => split == DatasetSplit.Train || Layout == ImageFolderLayout.TrainTest;

    /// <summary>The image files of a split and their labels, in row order.</summary>
    /// <exception cref="DatasetFormatException">The split does not exist, holds an unknown or empty class folder, or no class folders.</exception>
    public IReadOnlyList<(string Path, int Label)> ListFiles(DatasetSplit split) =>
        ListFileInfos(split).Select(f => (f.File.FullName, f.Label)).ToList();

    /// <inheritdoc />
    public InMemoryDataset Load(DatasetSplit split, CancellationToken cancellationToken = default) => LoadDetailed(split, cancellationToken).Dataset;

    /// <inheritdoc />
    public DatasetLoadResult LoadDetailed(DatasetSplit split, CancellationToken cancellationToken = default)
    {
        string splitName = split.ToString().ToLowerInvariant();
        string datasetName = $"{Name}/{splitName}";
        var files = ListFileInfos(split);
        var classNames = ClassNames;
        string? key = Options.UseCache ? _cache.Key(splitName, files.Select(f => f.File).ToList(), classNames) : null;
        if (key is not null && _cache.TryRead(splitName, key, classNames, datasetName) is { } cached)
        {
            var log = new SkippedInputLog(_logger, datasetName);
            for (int i = 0; i < cached.Skipped.Count; i++)
                log.Add(i, cached.Skipped[i]);
            return new DatasetLoadResult(cached.Dataset, log.Complete()) { Origins = cached.Files, FromCache = true };
        }

        var decoded = ImageFiles.Decode(files.Select(f => f.File.FullName).ToList(), Options, datasetName, cancellationToken);
        InMemoryDataset dataset;
        try
        {
            var labels = tensor(decoded.Kept.Select(i => (long)files[i].Label).ToArray(), ScalarType.Int64);
            dataset = new InMemoryDataset(decoded.Images, labels, classNames, datasetName);
        }
        catch
        {
            decoded.Images.Dispose();
            throw;
        }
        _logger.LogInformation("Decoded {Dataset}: {Count} images of {Shape} in {Classes} classes from {Folder}",
            datasetName, dataset.Count, string.Join("×", dataset.Images.shape.Skip(1)), classNames.Count, SplitFolder(split));
        if (key is not null)
            _cache.Write(splitName, key, dataset, decoded.Files, decoded.Skipped);
        return new DatasetLoadResult(dataset, decoded.Skipped) { Origins = decoded.Files };
    }

    private List<(FileInfo File, int Label)> ListFileInfos(DatasetSplit split)
    {
        var classNames = ClassNames;
        string folder = SplitFolder(split);
        var result = new List<(FileInfo, int)>();
        foreach (var classFolder in ClassFolders(folder))
        {
            string name = Path.GetFileName(classFolder);
            int label = IndexOf(classNames, name);
            if (label < 0)
                throw new DatasetFormatException(classFolder, $"the class folder '{name}' is not one of the training classes ({string.Join(", ", classNames)})");
            var images = Tree.FindFiles(classFolder, Options.Extensions);
            if (images.Count == 0)
                throw new DatasetFormatException(classFolder, $"the class folder '{name}' holds no image files ({string.Join(", ", Options.Extensions)})");
            result.AddRange(images.Select(file => (file, label)));
        }
        return result;
    }

    private string SplitFolder(DatasetSplit split)
    {
        if (Layout == ImageFolderLayout.ClassFolders)
        {
            return split == DatasetSplit.Train ? Root
                : throw new DatasetFormatException(Root, $"has no {TestFolder} split: it holds class folders directly; use {TrainFolder}/ and {TestFolder}/ folders of class folders for two splits");
        }
        return Path.Combine(Root, split == DatasetSplit.Train ? TrainFolder : TestFolder);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.Ordinal))
                return i;
        }
        return -1;
    }

    private FolderTree CreateTree()
    {
        var splits = Layout == ImageFolderLayout.TrainTest ? new[] { DatasetSplit.Train, DatasetSplit.Test } : [DatasetSplit.Train];
        // The tree that lists the class folders themselves knows no class folders yet: it only checks links among them.
        var classFolders = splits.SelectMany(split => ClassFolders(SplitFolder(split))).ToList();
        return new FolderTree(Root, classFolders, Options.FollowDirectoryLinks, _logger, _warnedLinks);
    }

    /// <summary>
    /// The visible subfolders of <paramref name="folder"/> that are read as classes, in ordinal order of their names
    /// (directory links only with <see cref="ImageFolderOptions.FollowDirectoryLinks"/>, and checked).
    /// </summary>
    private List<string> ClassFolders(string folder)
    {
        List<string> folders;
        try
        {
            var subfolders = new DirectoryInfo(folder).EnumerateDirectories("*", new EnumerationOptions { IgnoreInaccessible = false });
            folders = new FolderTree(Root, [], Options.FollowDirectoryLinks, _logger, _warnedLinks).ClassFolders(folder, subfolders)
                .Select(d => d.FullName)
                .OrderBy(Path.GetFileName, StringComparer.Ordinal)
                .ToList();
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DatasetFormatException(folder, "the folder does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not DirectoryLinkException)
        {
            throw new DatasetFormatException(folder, $"the folder cannot be listed: {e.Message}", e);
        }
        if (folders.Count == 0)
            throw new DatasetFormatException(folder, "holds no class folders: put each class's images in a subfolder named after the class (folder/<class>/*.png)");
        return folders;
    }

    private static ImageFolderLayout ResolveLayout(string root, ImageFolderLayout layout)
    {
        bool split = HasClassFolders(Path.Combine(root, TrainFolder)) && HasClassFolders(Path.Combine(root, TestFolder));
        return layout switch
        {
            ImageFolderLayout.Auto => split ? ImageFolderLayout.TrainTest : ImageFolderLayout.ClassFolders,
            ImageFolderLayout.TrainTest when !split => throw new DatasetFormatException(root, $"has no {TrainFolder}/ and {TestFolder}/ folders of class folders"),
            _ => layout,
        };
    }

    private static bool HasClassFolders(string folder) =>
        Directory.Exists(folder) && new DirectoryInfo(folder).EnumerateDirectories("*", new EnumerationOptions()).Any();
}
