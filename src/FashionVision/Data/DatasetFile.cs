namespace FashionVision.Data;

/// <summary>One file of a dataset.</summary>
/// <param name="Name">The uncompressed file name, e.g. <c>train-images-idx3-ubyte</c>; on disk it may also carry <c>.gz</c>.</param>
/// <param name="Sha256">The SHA-256 of the uncompressed content (lower-case hex).</param>
public sealed record DatasetFile(string Name, string Sha256);

/// <summary>The four files of an IDX dataset.</summary>
/// <param name="TrainImages">Training images.</param>
/// <param name="TrainLabels">Training labels.</param>
/// <param name="TestImages">Test images.</param>
/// <param name="TestLabels">Test labels.</param>
public sealed record IdxDatasetFiles(DatasetFile TrainImages, DatasetFile TrainLabels, DatasetFile TestImages, DatasetFile TestLabels)
{
    /// <summary>All four files.</summary>
    public IReadOnlyList<DatasetFile> All => new[] { TrainImages, TrainLabels, TestImages, TestLabels };

    /// <summary>The image and label files of a split.</summary>
    public (DatasetFile Images, DatasetFile Labels) For(DatasetSplit split) =>
        split == DatasetSplit.Train ? (TrainImages, TrainLabels) : (TestImages, TestLabels);
}
