namespace FashionVision.Data;

/// <summary>A source of a labelled image dataset: where its files are, how to get them, how to load a split.</summary>
/// <remarks>
/// Implementations: <see cref="IdxDatasetSource"/> (MNIST-style IDX files), <see cref="CsvDatasetSource"/> (Kaggle-style CSV
/// files), and <c>ImageFolderSource</c> in the FashionVision.Imaging package (a folder per class of image files).
/// </remarks>
public interface IDatasetSource
{
    /// <summary>The dataset's registry name, e.g. <c>fashion-mnist</c>.</summary>
    string Name { get; }

    /// <summary>The class names, in class-index order.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Loads a split into memory, locating (and, if allowed, downloading) its files first.</summary>
    /// <exception cref="DatasetFormatException">A file is missing, malformed or inconsistent with its partner.</exception>
    /// <exception cref="InvalidOperationException">libtorch cannot be loaded; the message says why (<see cref="Native.TorchRuntime"/>).</exception>
    InMemoryDataset Load(DatasetSplit split, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads a split and says what was skipped and where each image came from. Sources that never skip anything keep this
    /// default, which wraps <see cref="Load"/>.
    /// </summary>
    /// <exception cref="DatasetFormatException">A file is missing, malformed or inconsistent with its partner.</exception>
    DatasetLoadResult LoadDetailed(DatasetSplit split, CancellationToken cancellationToken = default) =>
        new(Load(split, cancellationToken), Array.Empty<SkippedInput>());
}
