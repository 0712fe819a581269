using FashionVision.Data;

namespace FashionVision.Cli.Infrastructure;

/// <summary>
/// Finds the dataset a model was trained on and loads a split of it, optionally cut to its first N images for quick runs
/// (the validation hold-out is <c>TrainingRun.HoldOut</c>'s).
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
}
