using FashionVision.Data;

namespace FashionVision.Cli.Infrastructure;

/// <summary>Loads a dataset split for a command, optionally cut to its first N images for quick runs, and holds out validation images.</summary>
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

    /// <summary>
    /// Splits <paramref name="data"/> into training and validation images (stratified by class, reproducible from
    /// <paramref name="seed"/>) and disposes it; a <paramref name="fraction"/> of 0 returns it whole with no validation set.
    /// </summary>
    /// <exception cref="CliException">The split leaves no training or no validation images.</exception>
    public static (InMemoryDataset Train, InMemoryDataset? Validation) HoldOut(InMemoryDataset data, double fraction, long seed)
    {
        if (fraction <= 0)
            return (data, null);
        using (data)
        {
            var (train, validation) = data.SplitStratified(fraction, seed);
            if (train.Count > 0 && validation.Count > 0)
                return (train, validation);
            long kept = train.Count;
            train.Dispose();
            validation.Dispose();
            throw new CliException($"--validation-split {fraction} of {data.Count:N0} images leaves {(kept == 0 ? "no training" : "no validation")} images: use more images or another split.");
        }
    }
}
