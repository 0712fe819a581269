using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// Yields seeded, shuffled mini-batches of an <see cref="InMemoryDataset"/> as float tensors on a chosen device.
/// </summary>
/// <remarks>
/// <para>The dataset is copied to the device once, as uint8; each batch is one <c>index_select</c>, one conversion to
/// float and one fused normalisation. The order of epoch <c>e</c> depends only on (<see cref="DataLoaderOptions.Seed"/>, e) (<see cref="SeedStreams.LoaderEpoch"/>),
/// so a resumed run sees the same batches as an uninterrupted one.</para>
/// <para>A batch's tensors belong to the loader: they stay valid until the next batch is requested, and are freed then
/// (or when the enumeration ends). Clone what you keep.</para>
/// </remarks>
public sealed class DataLoader : IDisposable
{
    private readonly Tensor _images;
    private readonly Tensor _labels;
    private readonly Tensor? _scale;
    private readonly Tensor? _shift;
    private readonly bool _ownsDeviceCopy;

    /// <summary>Creates a loader over <paramref name="dataset"/> (which stays owned by the caller).</summary>
    public DataLoader(InMemoryDataset dataset, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Options = options ?? new DataLoaderOptions();
        Options.Validate();
        if (dataset.Count == 0)
            throw new ArgumentException($"The dataset '{dataset.Name}' is empty.", nameof(dataset));
        if (Options.Normalization is { } n && n.Channels != dataset.ImageShape.Channels)
            throw new ArgumentException($"Normalization has {n.Channels} channels but the images have {dataset.ImageShape.Channels}.", nameof(options));

        Dataset = dataset;
        Device = Options.Device ?? CPU;
        _ownsDeviceCopy = dataset.Images.device != Device;
        _images = _ownsDeviceCopy ? dataset.Images.to(Device) : dataset.Images;
        _labels = _ownsDeviceCopy ? dataset.Labels.to(Device) : dataset.Labels;
        if (Options.Normalization is { } stats)
        {
            // (x/255 − mean)/std = x · 1/(255·std) − mean/std, one multiply-add per pixel.
            var scale = stats.Std.Select(s => 1f / (255f * s)).ToArray();
            var shift = stats.Mean.Zip(stats.Std, (m, s) => -m / s).ToArray();
            _scale = tensor(scale, new long[] { 1, scale.Length, 1, 1 }, device: Device);
            _shift = tensor(shift, new long[] { 1, shift.Length, 1, 1 }, device: Device);
        }
    }

    /// <summary>The dataset being batched.</summary>
    public InMemoryDataset Dataset { get; }

    /// <summary>The options in force.</summary>
    public DataLoaderOptions Options { get; }

    /// <summary>The device batches are produced on.</summary>
    public Device Device { get; }

    /// <summary>The number of images.</summary>
    public long Count => Dataset.Count;

    /// <summary>Batches per epoch.</summary>
    public int BatchCount => (int)(Options.DropLast ? Count / Options.BatchSize : (Count + Options.BatchSize - 1) / Options.BatchSize);

    /// <summary>The images one epoch yields (fewer than <see cref="Count"/> when the last batch is dropped).</summary>
    public long ImagesPerEpoch => Options.DropLast ? (long)BatchCount * Options.BatchSize : Count;

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the dataset (int64 indices on the CPU).</summary>
    public Tensor EpochOrder(int epoch)
    {
        if (!Options.Shuffle)
            return arange(Count, dtype: ScalarType.Int64);
        using var generator = new torch.Generator(SeedStreams.LoaderEpoch(Options.Seed, epoch));
        return randperm(Count, generator: generator);
    }

    /// <summary>Yields the batches of epoch <paramref name="epoch"/> (0-based).</summary>
    public IEnumerable<Batch> GetBatches(int epoch = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Enumerate(epoch, cancellationToken);
    }

    private IEnumerable<Batch> Enumerate(int epoch, CancellationToken cancellationToken)
    {
        using var order = EpochOrder(epoch);
        using var orderOnDevice = order.to(Device);
        int batchSize = Options.BatchSize;
        Batch? current = null;
        try
        {
            for (int b = 0; b < BatchCount; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Release(current);
                long start = (long)b * batchSize;
                long size = Math.Min(batchSize, Count - start);
                current = MakeBatch(orderOnDevice, order, start, size);
                yield return current.Value;
            }
        }
        finally
        {
            Release(current);
        }
    }

    private Batch MakeBatch(Tensor orderOnDevice, Tensor order, long start, long size)
    {
        using var scope = NewDisposeScope();
        var indices = orderOnDevice.narrow(0, start, size);
        var images = _images.index_select(0, indices).to_type(ScalarType.Float32);
        images = _scale is null ? images.div_(255f) : images.mul_(_scale).add_(_shift!);
        var labels = _labels.index_select(0, indices);
        var cpuIndices = order.narrow(0, start, size).clone();
        scope.Detach(images, labels, cpuIndices);
        return new Batch(images, labels, cpuIndices);
    }

    private static void Release(Batch? batch)
    {
        if (batch is not { } b)
            return;
        b.Images.Dispose();
        b.Labels.Dispose();
        b.Indices.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _scale?.Dispose();
        _shift?.Dispose();
        if (_ownsDeviceCopy)
        {
            _images.Dispose();
            _labels.Dispose();
        }
    }
}
