using FashionVision.Data;

namespace FashionVision.Cli.Infrastructure;

/// <summary>
/// Finds the dataset a model was trained on, loads a split of it, optionally cut to its first N images for quick runs, and
/// holds out validation images.
/// </summary>
internal static class RunData
{
    /// <summary>The catalog dataset whose class names are <paramref name="classNames"/>.</summary>
    /// <param name="classNames">A model's class names (from its checkpoint or ONNX metadata).</param>
    /// <param name="otherwise">What the error says the user can do when no dataset matches.</param>
    public static string DatasetNameFor(IReadOnlyList<string> classNames, string otherwise)
    {
        foreach (var name in DatasetCatalog.Names)
            if (DatasetCatalog.Create(name).ClassNames.SequenceEqual(classNames))
                return name;
        throw new CliException($"the model's classes match no known dataset; {otherwise}");
    }

    /// <summary>The dataset source of the model with <paramref name="classNames"/>, in <paramref name="dataDirectory"/> when given.</summary>
    public static IDatasetSource SourceFor(IReadOnlyList<string> classNames, DirectoryInfo? dataDirectory, string otherwise) =>
        DatasetCatalog.Create(DatasetNameFor(classNames, otherwise), CommonOptions.DatasetOptions(dataDirectory));

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
            long kept = train.Count, heldOut = validation.Count;
            train.Dispose();
            validation.Dispose();
            throw new CliException($"--validation-split {fraction} of {data.Count:N0} images leaves the {(kept == 0 ? "training" : "validation")} split empty "
                + $"({heldOut:N0} of {data.Count:N0} images held out, rounded per class); use more images, another --validation-split, or --validation-split 0 for none",
                CliApp.UsageError);
        }
    }
}
