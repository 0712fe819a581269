namespace FashionVision.Data;

/// <summary>
/// A dataset file is missing, unreadable or malformed. The message names the file, the line for text formats (CSV), and
/// the problem.
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

    /// <summary>Creates the exception for line <paramref name="lineNumber"/> (1-based) of <paramref name="filePath"/>.</summary>
    public DatasetFormatException(string filePath, long lineNumber, string problem, Exception? innerException = null)
        : base($"{filePath}, line {lineNumber}: {problem}", innerException)
    {
        FilePath = filePath;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The file that could not be used.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line of a text file where the problem is, or null.</summary>
    public long? LineNumber { get; }

    /// <summary>What is wrong with it, without the file name.</summary>
    public string Problem { get; }
}
