using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// A labelled image dataset held as two tensors: images (uint8 N×C×H×W) and labels (int64 N), with its class names.
/// </summary>
/// <remarks>The dataset owns its tensors; <see cref="Dispose"/> frees them. Subsets own copies of their rows.</remarks>
public sealed class InMemoryDataset : IDisposable
{
    /// <summary>Creates a dataset from tensors it takes ownership of.</summary>
    /// <param name="images">uint8 images N×C×H×W.</param>
    /// <param name="labels">int64 labels N, each in [0, number of classes).</param>
    /// <param name="classNames">The class names, in class-index order.</param>
    /// <param name="name">A display name, e.g. <c>fashion-mnist/train</c>.</param>
    /// <exception cref="ArgumentException">The shapes, dtypes or labels are inconsistent.</exception>
    public InMemoryDataset(Tensor images, Tensor labels, IReadOnlyList<string> classNames, string name = "dataset")
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classNames);
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be N×C×H×W; got shape [{string.Join(", ", images.shape)}].", nameof(images));
        if (images.dtype != ScalarType.Byte)
            throw new ArgumentException($"Images must be uint8; got {images.dtype}.", nameof(images));
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"Labels must be a 1-D int64 tensor; got {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (labels.shape[0] != images.shape[0])
            throw new ArgumentException($"{images.shape[0]} images but {labels.shape[0]} labels.", nameof(labels));
        if (classNames.Count == 0)
            throw new ArgumentException("At least one class name is required.", nameof(classNames));
        if (labels.numel() > 0)
        {
            long min = labels.min().item<long>(), max = labels.max().item<long>();
            if (min < 0 || max >= classNames.Count)
                throw new ArgumentException($"Labels range over [{min}, {max}] but there are {classNames.Count} classes.", nameof(labels));
        }
        // The dataset owns its tensors: a DisposeScope that happens to be open while it is created must not free them.
        Images = images.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        ClassNames = classNames;
        Name = name;
    }

    /// <summary>uint8 images N×C×H×W.</summary>
    public Tensor Images { get; }

    /// <summary>int64 labels N.</summary>
    public Tensor Labels { get; }

    /// <summary>The class names, in class-index order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>A display name.</summary>
    public string Name { get; }

    /// <summary>The number of images.</summary>
    public long Count => Images.shape[0];

    /// <summary>The number of classes.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>Channels, height and width of one image.</summary>
    public (int Channels, int Height, int Width) ImageShape => ((int)Images.shape[1], (int)Images.shape[2], (int)Images.shape[3]);

    /// <summary>Images per class, in class-index order.</summary>
    public long[] ClassCounts()
    {
        using var counts = Labels.bincount(null, NumClasses);
        return counts.data<long>().ToArray();
    }

    /// <summary>A new dataset holding copies of the rows at <paramref name="indices"/> (int64, any device).</summary>
    public InMemoryDataset Subset(Tensor indices, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var scope = NewDisposeScope();
        var onDevice = indices.to(Images.device).to_type(ScalarType.Int64);
        var images = scope.MoveToOuter(Images.index_select(0, onDevice));
        var labels = scope.MoveToOuter(Labels.index_select(0, onDevice.to(Labels.device)));
        return new InMemoryDataset(images, labels, ClassNames, name ?? Name + "/subset");
    }

    /// <summary>A new dataset holding copies of <paramref name="count"/> rows starting at <paramref name="start"/>.</summary>
    public InMemoryDataset Take(long count, long start = 0)
    {
        if (start < 0 || start > Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"Must lie in [0, {Count}].");
        if (count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"Must lie in [0, {Count - start}].");
        using var indices = arange(start, start + count, dtype: ScalarType.Int64);
        return Subset(indices, $"{Name}[{start}..{start + count})");
    }

    /// <summary>
    /// Splits the dataset into training and validation parts with the same class proportions (stratified), reproducibly.
    /// </summary>
    /// <param name="validationFraction">The fraction of each class that goes to validation, in (0, 1).</param>
    /// <param name="seed">The seed that chooses which images go where.</param>
    public (InMemoryDataset Train, InMemoryDataset Validation) SplitStratified(double validationFraction, long seed = 0)
    {
        if (!(validationFraction > 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Must lie strictly between 0 and 1.");
        using var scope = NewDisposeScope();
        using var generator = new torch.Generator((ulong)seed);
        var labels = Labels.cpu();
        var trainParts = new List<Tensor>();
        var validationParts = new List<Tensor>();
        for (int c = 0; c < NumClasses; c++)
        {
            var members = nonzero(labels.eq(c)).flatten();
            long n = members.shape[0];
            if (n == 0)
                continue;
            var shuffled = members.index_select(0, randperm(n, generator: generator));
            long validationCount = (long)Math.Round(n * validationFraction);
            validationParts.Add(shuffled.narrow(0, 0, validationCount));
            trainParts.Add(shuffled.narrow(0, validationCount, n - validationCount));
        }
        // Sorting keeps the original order within each part, so a split does not act as a shuffle.
        var trainIndices = cat(trainParts, 0).sort().Values;
        var validationIndices = cat(validationParts, 0).sort().Values;
        return (Subset(trainIndices, Name + "/train-split"), Subset(validationIndices, Name + "/validation-split"));
    }

    /// <summary>Per-channel mean and standard deviation of the pixel intensities scaled to [0, 1].</summary>
    public ChannelStatistics ComputeStatistics() => ChannelStatistics.Compute(Images);

    /// <summary>A copy of the dataset on <paramref name="device"/>.</summary>
    public InMemoryDataset To(Device device) => new(Images.to(device), Labels.to(device), ClassNames, Name);

    /// <inheritdoc />
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
