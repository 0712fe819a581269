using FashionVision.Data;
using Microsoft.Extensions.Logging;

namespace FashionVision.Imaging;

/// <summary>
/// Walks a folder tree for image files without ever following a directory link out of bounds or into a loop. By default
/// directory links are not followed at all (each is skipped with a logged warning). When they are followed, a link must lead
/// inside the dataset folder, not back to a folder that contains it, and not into a folder that is read anyway (a class
/// folder, whose images would get a second label or be read twice) or was reached through another link; otherwise a
/// <see cref="DirectoryLinkException"/> names it. Paths are compared by their real paths (every link resolved).
/// </summary>
internal sealed class FolderTree
{
    private static readonly StringComparison PathComparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
        ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    private readonly bool _followLinks;
    private readonly string _realRoot;
    private readonly string _root;
    private readonly IReadOnlyList<string> _realReadFolders;
    private readonly ILogger _logger;
    private readonly ISet<string> _warned;

    /// <param name="root">The dataset folder no followed link may leave.</param>
    /// <param name="readFolders">The folders that are read anyway (the class folders of every split).</param>
    /// <param name="followLinks">Follow directory links (checked) instead of skipping them.</param>
    /// <param name="logger">Receives the warnings about skipped links.</param>
    /// <param name="warned">Links already warned about (each is warned about once per source).</param>
    public FolderTree(string root, IEnumerable<string> readFolders, bool followLinks, ILogger logger, ISet<string> warned)
    {
        _root = Path.GetFullPath(root);
        _followLinks = followLinks;
        _logger = logger;
        _warned = warned;
        _realRoot = followLinks ? RealPath(_root) : _root;
        _realReadFolders = followLinks ? readFolders.Select(RealPath).ToList() : [];
    }

    /// <summary>Whether a directory entry is a link (symbolic link or junction) that is skipped; warns about it once.</summary>
    public bool SkipsLink(DirectoryInfo directory)
    {
        if (_followLinks || directory.LinkTarget is not { } target)
            return false;
        if (_warned.Add(directory.FullName))
        {
            _logger.LogWarning("Skipping the directory link {Link} -> {Target}: directory links are not followed (ImageFolderOptions.FollowDirectoryLinks)",
                directory.FullName, target);
        }
        return true;
    }

    /// <summary>The image files under <paramref name="folder"/>, subfolders included (hidden ones not), sorted by path (ordinal).</summary>
    /// <exception cref="DatasetFormatException">The folder does not exist or cannot be listed.</exception>
    /// <exception cref="DirectoryLinkException">A followed link leads out of the root, into a loop or into images read already.</exception>
    public List<FileInfo> FindFiles(string folder, IReadOnlyList<string> extensions)
    {
        var wanted = new HashSet<string>(extensions, StringComparer.OrdinalIgnoreCase);
        var files = new List<FileInfo>();
        var start = new DirectoryInfo(Path.GetFullPath(folder));
        try
        {
            Walk(start, _followLinks ? RealPath(start.FullName) : start.FullName, wanted, files, []);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new DatasetFormatException(folder, "the folder does not exist", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not DirectoryLinkException)
        {
            throw new DatasetFormatException(folder, $"the folder cannot be listed: {e.Message}", e);
        }
        files.Sort((a, b) => string.CompareOrdinal(a.FullName, b.FullName));
        return files;
    }

    private void Walk(DirectoryInfo directory, string realDirectory, HashSet<string> wanted, List<FileInfo> files, List<string> followed)
    {
        foreach (var entry in directory.EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = false }))
        {
            if (entry is FileInfo file)
            {
                if (wanted.Contains(file.Extension))
                    files.Add(file);
                continue;
            }
            var subfolder = (DirectoryInfo)entry;
            if (subfolder.LinkTarget is null)
            {
                Walk(subfolder, Path.Combine(realDirectory, subfolder.Name), wanted, files, followed);
                continue;
            }
            if (SkipsLink(subfolder))
                continue;
            string target = RealPath(subfolder.FullName);
            CheckLink(subfolder.FullName, realDirectory, target, followed);
            followed.Add(target);
            Walk(subfolder, target, wanted, files, followed);
        }
    }

    private void CheckLink(string link, string realParent, string target, List<string> followed)
    {
        if (!IsWithin(target, _realRoot))
            throw new DirectoryLinkException(link, target, $"leads out of the dataset folder '{_root}'");
        if (IsWithin(realParent, target))
            throw new DirectoryLinkException(link, target, "leads back to a folder that contains it (a loop)");
        if (_realReadFolders.FirstOrDefault(f => IsWithin(target, f) || IsWithin(f, target)) is { } classFolder)
            throw new DirectoryLinkException(link, target, $"leads into the class folder '{classFolder}', whose images are read already (they would be read twice or get a second label)");
        if (followed.FirstOrDefault(f => IsWithin(target, f) || IsWithin(f, target)) is { } reached)
            throw new DirectoryLinkException(link, target, $"leads into '{reached}', which another link reached already (its images would be read twice)");
    }

    /// <summary>
    /// The class folders of a split folder that are read: its visible subfolders, links skipped (with a warning) unless
    /// followed; followed ones must lead inside the root, not back to the split folder, and not to the same images as another.
    /// </summary>
    public List<DirectoryInfo> ClassFolders(string splitFolder, IEnumerable<DirectoryInfo> subfolders)
    {
        var kept = subfolders.Where(d => !SkipsLink(d)).ToList();
        if (!_followLinks)
            return kept;
        string realSplit = RealPath(splitFolder);
        var real = new List<(DirectoryInfo Folder, string Real)>();
        foreach (var folder in kept)
        {
            if (folder.LinkTarget is null)
            {
                real.Add((folder, Path.Combine(realSplit, folder.Name)));
                continue;
            }
            string target = RealPath(folder.FullName);
            if (!IsWithin(target, _realRoot))
                throw new DirectoryLinkException(folder.FullName, target, $"leads out of the dataset folder '{_root}'");
            if (IsWithin(realSplit, target))
                throw new DirectoryLinkException(folder.FullName, target, "leads back to a folder that contains it (a loop)");
            real.Add((folder, target));
        }
        foreach (var (folder, target) in real.Where(r => r.Folder.LinkTarget is not null))
        {
            if (real.FirstOrDefault(o => o.Folder != folder && (IsWithin(target, o.Real) || IsWithin(o.Real, target))) is { Folder: not null } other)
                throw new DirectoryLinkException(folder.FullName, target, $"leads to the images of the class folder '{other.Folder.FullName}' (they would get two labels)");
        }
        return kept;
    }

    private static bool IsWithin(string path, string folder)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(folder);
        return path.Equals(trimmed, PathComparison)
            || (path.StartsWith(trimmed, PathComparison) && path.Length > trimmed.Length && path[trimmed.Length] is '/' or '\\');
    }

    /// <summary>
    /// The path with every link along it resolved, component by component (as POSIX realpath does, so a ".." after a link
    /// goes up from the link's target); a missing component is kept as it is.
    /// </summary>
    /// <exception cref="IOException">The links form a chain of more than 40 (a loop).</exception>
    internal static string RealPath(string path)
    {
        // Not Path.GetFullPath: it would fold "link/.." lexically, before the link is resolved.
        string full = Path.IsPathFullyQualified(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path);
        string current = Path.GetPathRoot(full)!;
        var pending = new Stack<string>();
        Push(pending, full[current.Length..]);
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".")
                continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string next = Path.Combine(current, part);
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                current = next;
                continue;
            }
            if (++links > 40)
                throw new IOException($"{path}: too many levels of links (a loop)");
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }
            Push(pending, target);
        }
        return current;
    }

    private static void Push(Stack<string> pending, string relative)
    {
        var parts = relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--)
            pending.Push(parts[i]);
    }
}
