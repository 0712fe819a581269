namespace FashionVision.Data;

/// <summary>A loaded split together with what was left out of it and where each image came from.</summary>
/// <param name="Dataset">The dataset; the caller owns (and disposes) it.</param>
/// <param name="Skipped">Inputs left out because they could not be used (only when the source is told to skip bad inputs).</param>
public sealed record DatasetLoadResult(InMemoryDataset Dataset, IReadOnlyList<SkippedInput> Skipped)
{
    /// <summary>Where each image came from, in row order (an image file's path; a CSV file and line), or null when the source does not say.</summary>
    public IReadOnlyList<string>? Origins { get; init; }

    /// <summary>True when the images were read from a cache of an earlier decode rather than decoded again.</summary>
    public bool FromCache { get; init; }
}
