namespace FashionVision.TorchVision.Weights;

/// <summary>A weights file cannot be read: it is in none of the <see cref="WeightFileFormat"/>s, or it is damaged; the message names the file.</summary>
public sealed class WeightFileFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="problem">What is wrong, as the end of a sentence.</param>
    /// <param name="inner">The reader's own exception, if any.</param>
    public WeightFileFormatException(string path, string problem, Exception? inner = null)
        : base($"Weights file '{path}' cannot be read: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
}
