namespace FashionVision.Training;

/// <summary>Thrown when a checkpoint's weights do not fit a model: another architecture, another class count, or missing and unexpected keys.</summary>
public sealed class CheckpointMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointMismatchException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatchedShapes)
        : base(message)
    {
        Missing = missing;
        Unexpected = unexpected;
        MismatchedShapes = mismatchedShapes;
    }

    /// <summary>Keys the model has and the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys the checkpoint has and the model lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys whose shapes differ, as "name: checkpoint [..] vs model [..]".</summary>
    public IReadOnlyList<string> MismatchedShapes { get; }
}

/// <summary>Thrown when a file is not a readable FashionVision checkpoint (truncated, not a checkpoint, a newer format).</summary>
public sealed class CheckpointFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CheckpointFormatException(string path, string problem, Exception? inner = null)
        : base($"'{path}' is not a valid FashionVision checkpoint: {problem}", inner)
    {
        Path = path;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
}
