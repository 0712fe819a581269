namespace FashionVision.Imaging;

/// <summary>
/// A directory link (symbolic link or junction) in an image folder leads where following it would read wrong data: out of
/// the dataset folder, back into a folder that contains it (a loop), or into images that are read already (under their
/// own class or twice). Raised only when <see cref="ImageFolderOptions.FollowDirectoryLinks"/> is on; otherwise such links
/// are skipped with a logged warning.
/// </summary>
public sealed class DirectoryLinkException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="linkPath">The link.</param>
    /// <param name="targetPath">Where it leads (its real path).</param>
    /// <param name="problem">What following it would do, in a few words.</param>
    public DirectoryLinkException(string linkPath, string targetPath, string problem)
        : base($"{linkPath}: the directory link to '{targetPath}' {problem}")
    {
        LinkPath = linkPath;
        TargetPath = targetPath;
        Problem = problem;
    }

    /// <summary>The link.</summary>
    public string LinkPath { get; }

    /// <summary>The real path it leads to.</summary>
    public string TargetPath { get; }

    /// <summary>What following it would do.</summary>
    public string Problem { get; }
}
