namespace FashionVision.Imaging;

/// <summary>An image file or buffer could not be turned into model input: it is missing, empty, not an image, or corrupt.</summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="sourceName">The file path, or a description of the buffer or stream.</param>
    /// <param name="problem">What is wrong, in a few words.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public ImageDecodeException(string sourceName, string problem, Exception? innerException = null)
        : base($"Cannot decode image '{sourceName}': {problem}", innerException)
    {
        SourceName = sourceName;
        Problem = problem;
    }

    /// <summary>The file path, or a description of the buffer or stream.</summary>
    public string SourceName { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }
}
