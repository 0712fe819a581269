namespace FashionVision.Models;

/// <summary>A safetensors file is malformed: the message names the file and what is wrong with it.</summary>
public sealed class SafeTensorsFormatException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">The file (or stream description) that was read.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public SafeTensorsFormatException(string source, string problem, Exception? inner = null)
        : base($"Invalid safetensors file '{source}': {problem}", inner)
    {
        FilePath = source;
        Problem = problem;
    }

    /// <summary>The file (or stream description) that was read.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; }
}
