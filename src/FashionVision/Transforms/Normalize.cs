using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// Standardises each channel: <c>(x − mean[c]) / std[c]</c>. Build it from the training set's own statistics
/// (<see cref="FromDataset"/>, <see cref="FromStatistics"/> or <see cref="FromImages"/>) rather than typing numbers in.
/// </summary>
public sealed class Normalize : BatchTransform
{
    private readonly float[] _mean;
    private readonly float[] _std;

    /// <summary>Creates the transform.</summary>
    /// <param name="mean">Per-channel means (one value applies to every channel); finite.</param>
    /// <param name="std">Per-channel standard deviations, as many as <paramref name="mean"/>; finite and positive.</param>
    public Normalize(IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Count == 0)
            throw new ArgumentException("At least one channel mean is needed.", nameof(mean));
        if (std.Count != mean.Count)
            throw new ArgumentException($"{std.Count} standard deviations were given for {mean.Count} means.", nameof(std));
        if (mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException("Every mean must be a finite number.", nameof(mean));
        if (std.Any(s => !float.IsFinite(s) || s <= 0))
            throw new ArgumentException("Every standard deviation must be finite and positive.", nameof(std));
        _mean = mean.ToArray();
        _std = std.ToArray();
    }

    /// <summary>The per-channel means.</summary>
    public IReadOnlyList<float> Mean => _mean;

    /// <summary>The per-channel standard deviations.</summary>
    public IReadOnlyList<float> Std => _std;

    /// <summary>
    /// Builds the transform from the per-channel mean and standard deviation of a set of images (typically the training set's
    /// uint8 N×C×H×W tensor; uint8 values are scaled to [0, 1] first, matching float batches made from them).
    /// </summary>
    /// <param name="images">Images N×C×H×W, uint8 or float.</param>
    public static Normalize FromImages(Tensor images)
    {
        var statistics = ChannelStatistics.Compute(images);
        // A constant channel has no spread; dividing by 1 keeps it finite.
        return new Normalize(statistics.Mean, statistics.Std.Select(s => s > 0 ? s : 1f).ToArray());
    }

    /// <summary>Builds the transform from statistics the data layer computed (e.g. <see cref="InMemoryDataset.ComputeStatistics"/>).</summary>
    /// <param name="statistics">Per-channel means and standard deviations of intensities in [0, 1].</param>
    public static Normalize FromStatistics(ChannelStatistics statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        return new Normalize(statistics.Mean, statistics.Std.Select(s => s > 0 ? s : 1f).ToArray());
    }

    /// <summary>Builds the transform from the statistics of a dataset's images (usually the training split).</summary>
    /// <param name="dataset">The dataset whose uint8 images define the statistics.</param>
    public static Normalize FromDataset(InMemoryDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return FromImages(dataset.Images);
    }

    /// <inheritdoc />
    protected override (Tensor Images, Tensor Targets) ApplyCore(Tensor images, Tensor targets, Generator generator)
    {
        if (_mean.Length != 1 && _mean.Length != images.shape[1])
            throw new ArgumentException($"Normalize holds statistics for {_mean.Length} channels; the images have {images.shape[1]}.", nameof(images));
        return (TransformFunctional.Normalize(images, _mean, _std), targets);
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"Normalize(mean=[{string.Join(", ", _mean.Select(m => TransformGuard.Format(Math.Round(m, 4))))}], " +
        $"std=[{string.Join(", ", _std.Select(s => TransformGuard.Format(Math.Round(s, 4))))}])";
}
