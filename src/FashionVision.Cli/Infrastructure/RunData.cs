using FashionVision.Data;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Loads a dataset split for a command, optionally cut to its first N images for quick runs.</summary>
internal static class RunData
{
    public static InMemoryDataset Load(IDatasetSource source, DatasetSplit split, int? maxImages)
    {
        var full = source.Load(split);
        if (maxImages is not { } max || max >= full.Count)
            return full;
        using (full)
            return full.Take(max);
    }
}
