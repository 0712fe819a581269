namespace FashionVision.Data;

/// <summary>
/// A dataset file is missing, unreadable or malformed. The message names the file and the problem.
/// </summary>
public sealed class DatasetFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    public DatasetFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file that could not be used.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
