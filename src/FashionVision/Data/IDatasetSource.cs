namespace FashionVision.Data;

/// <summary>A source of a labelled image dataset: where its files are, how to get them, how to load a split.</summary>
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
}
