using FashionVision.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>
/// A copy of a dataset with a known fraction of its labels flipped, to measure a label-noise finder: which images were
/// flipped is known, so the finder's precision and recall can be counted (<see cref="Score"/>).
/// </summary>
/// <example>
/// <code>
/// using var noisy = PlantedLabelNoise.Flip(train, rate: 0.05, seed: 0);
/// var report = LabelNoiseFinder.Find(noisy.Dataset);
/// Console.WriteLine(noisy.Score(report.Issues.Select(i => i.Index)));   // precision, recall, F1
/// </code>
/// </example>
public sealed class PlantedLabelNoise : IDisposable
{
    private readonly HashSet<long> _flipped;

    private PlantedLabelNoise(InMemoryDataset dataset, long[] flipped)
    {
        Dataset = dataset;
        FlippedIndices = flipped;
        _flipped = new HashSet<long>(flipped);
    }

    /// <summary>The noisy copy (its own image and label tensors).</summary>
    public InMemoryDataset Dataset { get; }

    /// <summary>The indices whose label was changed, ascending.</summary>
    public IReadOnlyList<long> FlippedIndices { get; }

    /// <summary>
    /// Copies <paramref name="dataset"/> and gives exactly round(<paramref name="rate"/> · N) images, chosen uniformly, a
    /// different label drawn uniformly from the other classes (symmetric noise).
    /// </summary>
    /// <param name="dataset">The clean dataset (left unchanged).</param>
    /// <param name="rate">The fraction of labels to flip, in [0, 1].</param>
    /// <param name="seed">The seed of the choice of images and of their new labels.</param>
    /// <exception cref="ArgumentException">The rate is outside [0, 1], or the dataset has a single class.</exception>
    public static PlantedLabelNoise Flip(InMemoryDataset dataset, double rate, long seed)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(rate >= 0 && rate <= 1))
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The flip rate must lie in [0, 1].");
        if (dataset.NumClasses < 2)
            throw new ArgumentException("Flipping labels needs at least two classes.", nameof(dataset));
        using var scope = NewDisposeScope();
        using var generator = new torch.Generator((ulong)seed);
        long count = (long)Math.Round(rate * dataset.Count);
        var chosen = randperm(dataset.Count, generator: generator).narrow(0, 0, count).sort().Values;
        var labels = dataset.Labels.cpu().clone();
        // An offset in [1, K) added modulo K changes the label to each other class with equal probability.
        var offsets = randint(1, dataset.NumClasses, new long[] { count }, generator: generator, dtype: ScalarType.Int64);
        labels.index_copy_(0, chosen, labels.index_select(0, chosen).add(offsets).remainder(dataset.NumClasses));
        var images = dataset.Images.clone();
        scope.Detach(images, labels);
        var noisy = new InMemoryDataset(images, labels.to(dataset.Labels.device), dataset.ClassNames, $"{dataset.Name}/flipped-{rate:0.###}");
        return new PlantedLabelNoise(noisy, chosen.data<long>().ToArray());
    }

    /// <summary>Counts how many of the <paramref name="flagged"/> indices are planted flips.</summary>
    /// <param name="flagged">The indices a finder flagged (duplicates count once).</param>
    public LabelNoiseDetection Score(IEnumerable<long> flagged)
    {
        ArgumentNullException.ThrowIfNull(flagged);
        var distinct = flagged.Distinct().ToList();
        return new LabelNoiseDetection(distinct.Count, _flipped.Count, distinct.Count(_flipped.Contains));
    }

    /// <inheritdoc />
    public void Dispose() => Dataset.Dispose();
}

/// <summary>How well flagged indices match planted label flips.</summary>
/// <param name="Flagged">Indices flagged.</param>
/// <param name="Planted">Labels flipped.</param>
/// <param name="Found">Flagged indices that were flipped (true positives).</param>
public sealed record LabelNoiseDetection(long Flagged, long Planted, long Found)
{
    /// <summary>Found / Flagged (1 when nothing was flagged).</summary>
    public double Precision => Flagged == 0 ? 1 : Found / (double)Flagged;

    /// <summary>Found / Planted (1 when nothing was planted).</summary>
    public double Recall => Planted == 0 ? 1 : Found / (double)Planted;

    /// <summary>The harmonic mean of precision and recall.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);

    /// <inheritdoc />
    public override string ToString() => FormattableString.Invariant($"precision {Precision:P1}, recall {Recall:P1} ({Found} of {Flagged} flagged were among the {Planted} flipped)");
}
