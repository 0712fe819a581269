namespace FashionVision.Onnx;

/// <summary>Where Triton runs a model's instances.</summary>
public enum TritonInstanceKind
{
    /// <summary>On the CPU (<c>KIND_CPU</c>).</summary>
    Cpu,

    /// <summary>On the GPUs (<c>KIND_GPU</c>); Triton's ONNX Runtime backend then uses CUDA.</summary>
    Gpu,
}

/// <summary>How <see cref="TritonModelRepository"/> lays out and configures one model. The defaults fit a small CNN on CPU.</summary>
public sealed record TritonModelOptions
{
    /// <summary>The model's name in the repository (its folder name and <c>name:</c> in config.pbtxt). Null: the ONNX graph's name.</summary>
    public string? Name { get; init; }

    /// <summary>The version folder the model goes into (Triton serves the highest version by default).</summary>
    public int Version { get; init; } = 1;

    /// <summary>The largest batch Triton sends the model (<c>max_batch_size</c>); the ONNX batch dimension must be dynamic.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>Batch sizes the dynamic batcher prefers to form; empty lets it fill up to <see cref="MaxBatchSize"/>.</summary>
    public IReadOnlyList<int> PreferredBatchSizes { get; init; } = [8, 32];

    /// <summary>How long the dynamic batcher may hold a request to gather a larger batch, in microseconds.</summary>
    public int MaxQueueDelayMicroseconds { get; init; } = 100;

    /// <summary>Instances of the model Triton runs side by side.</summary>
    public int InstanceCount { get; init; } = 1;

    /// <summary>CPU or GPU instances.</summary>
    public TritonInstanceKind InstanceKind { get; init; } = TritonInstanceKind.Cpu;

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Name is not null && !TritonModelRepository.IsValidName(Name))
            throw new ArgumentException($"The model name '{Name}' must be non-empty letters, digits, '.', '-' or '_' (it becomes a folder name).", nameof(Name));
        if (Version < 1)
            throw new ArgumentOutOfRangeException(nameof(Version), Version, "The version must be at least 1.");
        if (MaxBatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxBatchSize), MaxBatchSize, "The maximum batch size must be at least 1.");
        ArgumentNullException.ThrowIfNull(PreferredBatchSizes, nameof(PreferredBatchSizes));
        if (PreferredBatchSizes.Any(b => b < 1 || b > MaxBatchSize))
            throw new ArgumentOutOfRangeException(nameof(PreferredBatchSizes), $"Preferred batch sizes must be between 1 and {MaxBatchSize}.");
        if (MaxQueueDelayMicroseconds < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxQueueDelayMicroseconds), MaxQueueDelayMicroseconds, "The queue delay cannot be negative.");
        if (InstanceCount < 1)
            throw new ArgumentOutOfRangeException(nameof(InstanceCount), InstanceCount, "At least one instance is needed.");
        if (!Enum.IsDefined(InstanceKind))
            throw new ArgumentOutOfRangeException(nameof(InstanceKind), InstanceKind, "Unknown instance kind.");
    }
}
