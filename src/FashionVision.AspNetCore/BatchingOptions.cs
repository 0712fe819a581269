namespace FashionVision.AspNetCore;

/// <summary>
/// Micro-batching: requests that arrive while the model is busy are gathered into one run, which costs less per image than
/// one run each. Nothing waits for company by default (<see cref="MaxDelay"/> is zero): an idle server answers at once, and a
/// busy one batches whatever queued up during the previous run.
/// </summary>
public sealed record BatchingOptions
{
    /// <summary>The most images in one model run (1 turns batching off).</summary>
    public int MaxBatchSize { get; init; } = 32;

    /// <summary>How long a run may wait for more requests once it has one (Triton's <c>max_queue_delay</c>); zero never waits.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.Zero;

    /// <summary>The most images waiting for a run; beyond it requests get 503 at once instead of queueing without bound.</summary>
    public int QueueCapacity { get; init; } = 1024;

    /// <summary>Model runs in flight at once (ONNX Runtime already spreads one run over the cores, so one is usually best on a CPU).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (MaxBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "The batch size must be at least 1.");
        if (MaxDelay < TimeSpan.Zero || MaxDelay > TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(MaxDelay), MaxDelay, "The batching delay must be between 0 and 1 s.");
        if (QueueCapacity < 1)
            throw new ArgumentOutOfRangeException(nameof(QueueCapacity), QueueCapacity, "The queue must hold at least one image.");
        if (Workers < 1)
            throw new ArgumentOutOfRangeException(nameof(Workers), Workers, "At least one worker is needed.");
    }
}
