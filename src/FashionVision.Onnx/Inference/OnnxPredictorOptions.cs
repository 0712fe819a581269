namespace FashionVision.Onnx;

/// <summary>How an <see cref="OnnxPredictor"/> runs its model.</summary>
public sealed record OnnxPredictorOptions
{
    /// <summary>Threads ONNX Runtime uses inside one operator. 0: ONNX Runtime's default (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>
    /// The input shape (channels, height, width) the caller will pass. Null: whatever the model declares. When set, a model
    /// that declares another shape is rejected with <see cref="OnnxFormatException"/> at load time.
    /// </summary>
    public (int Channels, int Height, int Width)? ExpectedInputShape { get; init; }

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "Threads must be 0 (default) or positive.");
        if (ExpectedInputShape is { } s && (s.Channels <= 0 || s.Height <= 0 || s.Width <= 0))
            throw new ArgumentOutOfRangeException(nameof(ExpectedInputShape), s, "Every dimension must be positive.");
    }
}
