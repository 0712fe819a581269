namespace FashionVision.Onnx;

/// <summary>
/// A file is not a usable ONNX model: it is empty, it does not parse as an ONNX <c>ModelProto</c>, ONNX Runtime rejects it,
/// or its input or output is not the image-classifier shape FashionVision expects.
/// </summary>
public sealed class OnnxFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file that is wrong.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The underlying error, if any.</param>
    public OnnxFormatException(string path, string problem, Exception? innerException = null)
        : base($"'{path}' is not a usable ONNX model: {problem}", innerException)
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>The file that is wrong.</summary>
    public string Path { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}
