namespace FashionVision.Data;

/// <summary>An input (an image file, a CSV row) left out of a dataset because it could not be used.</summary>
/// <param name="FilePath">The file.</param>
/// <param name="LineNumber">The 1-based line, for text formats; otherwise null.</param>
/// <param name="Problem">What is wrong with it.</param>
public sealed record SkippedInput(string FilePath, long? LineNumber, string Problem)
{
    /// <summary>The same exception the input raises when bad inputs are not skipped.</summary>
    public DatasetFormatException ToException() =>
        LineNumber is { } line ? new DatasetFormatException(FilePath, line, Problem) : new DatasetFormatException(FilePath, Problem);

    /// <summary>"file, line N: problem" or "file: problem".</summary>
    public override string ToString() => ToException().Message;
}
