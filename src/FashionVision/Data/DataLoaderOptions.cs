using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>How a <see cref="DataLoader"/> batches a dataset.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Images per batch (default 128).</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Shuffle the order every epoch (default true); the order depends only on <see cref="Seed"/> and the epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Drop the last batch when it is smaller than <see cref="BatchSize"/> (default false).</summary>
    public bool DropLast { get; init; }

    /// <summary>The seed of the shuffling order.</summary>
    public long Seed { get; init; }

    /// <summary>The device the batches are produced on (default CPU). The whole dataset is copied there once, as uint8.</summary>
    public Device? Device { get; init; }

    /// <summary>When set, images are normalised per channel: (x − mean) / std, after scaling to [0, 1].</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>Throws when an option is out of range.</summary>
    public void Validate()
    {
        if (BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be positive.");
        if (Normalization is { } n && (n.Mean.Length != n.Std.Length || n.Std.Any(s => !(s > 0))))
            throw new ArgumentException("Normalization needs one mean and one positive std per channel.", nameof(Normalization));
    }
}
