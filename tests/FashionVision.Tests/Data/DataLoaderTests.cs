using FashionVision.Data;

namespace FashionVision.Tests.Data;

public class DataLoaderTests
{
    private static InMemoryDataset Synthetic(int count = 103, int classes = 4)
    {
        var images = arange(count * 2 * 3 * 3, dtype: ScalarType.Int64).remainder(251).to_type(ScalarType.Byte).reshape(count, 2, 3, 3);
        var labels = arange(count, dtype: ScalarType.Int64).remainder(classes);
        return new InMemoryDataset(images, labels, Enumerable.Range(0, classes).Select(c => $"class {c}").ToList(), "synthetic");
    }

    [Test]
    public void EveryImageOnceAnEpochWithTheRightPixelsAndLabels()
    {
        using var dataset = Synthetic();
        using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = 10, Seed = 3 });
        var seen = new List<long>();
        foreach (var batch in loader.GetBatches())
        {
            using var expected = dataset.Images.index_select(0, batch.Indices).to_type(ScalarType.Float32).div(255);
            Assert.That(batch.Images.allclose(expected), Is.True);
            Assert.That(TensorAssert.SameValues(batch.Labels, dataset.Labels.index_select(0, batch.Indices)), Is.True);
            Assert.That(batch.Images.dtype, Is.EqualTo(ScalarType.Float32));
            seen.AddRange(batch.Indices.data<long>().ToArray());
        }
        Assert.That(loader.BatchCount, Is.EqualTo(11));
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, 103).Select(i => (long)i)));
        Assert.That(seen, Is.Not.Ordered, "shuffled");
    }

    [Test]
    public void DropLastDropsTheShortBatch()
    {
        using var dataset = Synthetic();
        using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = 10, DropLast = true });
        var sizes = loader.GetBatches().Select(b => b.Size).ToList();
        Assert.That(sizes, Has.Count.EqualTo(10).And.All.EqualTo(10));
        Assert.That(loader.ImagesPerEpoch, Is.EqualTo(100));
    }

    [Test]
    public void OrderDependsOnlyOnSeedAndEpoch()
    {
        using var dataset = Synthetic();
        long[] Order(long seed, int epoch)
        {
            using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = 16, Seed = seed });
            return loader.GetBatches(epoch).SelectMany(b => b.Indices.data<long>().ToArray()).ToArray();
        }

        var reference = Order(5, 2);
        var again = Order(5, 2);
        Assert.That(again, Is.EqualTo(reference));
        Assert.That(Order(5, 3), Is.Not.EqualTo(reference));
        Assert.That(Order(6, 2), Is.Not.EqualTo(reference));
    }

    [Test]
    public void NoShuffleKeepsDatasetOrder()
    {
        using var dataset = Synthetic();
        using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = 16, Shuffle = false });
        var order = loader.GetBatches().SelectMany(b => b.Indices.data<long>().ToArray());
        Assert.That(order, Is.EqualTo(Enumerable.Range(0, 103).Select(i => (long)i)));
    }

    [Test]
    public void NormalizationWithComputedStatisticsGivesZeroMeanUnitStd()
    {
        using var dataset = Synthetic();
        var statistics = dataset.ComputeStatistics();
        using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = 1000, Normalization = statistics });
        foreach (var batch in loader.GetBatches())
        {
            using var perChannel = batch.Images.transpose(0, 1).reshape(2, -1);
            Assert.That(perChannel.mean(new long[] { 1 }).abs().max().item<float>(), Is.LessThan(1e-4));
            Assert.That((perChannel.std(1, unbiased: false) - 1).abs().max().item<float>(), Is.LessThan(1e-4));
        }
    }

    [Test]
    public void BatchesAreFreedWhenTheNextOneIsRequested()
    {
        using var dataset = Synthetic();
        using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = 10 });
        Batch? previous = null;
        foreach (var batch in loader.GetBatches())
        {
            if (previous is { } p)
                Assert.That(p.Images.IsInvalid, Is.True);
            previous = batch;
        }
        Assert.That(previous!.Value.Images.IsInvalid, Is.True, "the last batch is freed when the enumeration ends");
    }

    [Test]
    public void BadOptionsAndDatasetsAreRejected()
    {
        using var dataset = Synthetic();
        Assert.That(() => new DataLoader(dataset, new DataLoaderOptions { BatchSize = 0 }),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("BatchSize"));
        Assert.That(() => new DataLoader(dataset, new DataLoaderOptions { Normalization = new ChannelStatistics(new[] { 0.5f }, new[] { 0.2f }) }),
            Throws.ArgumentException.With.Message.Contains("channels"));
        using var empty = dataset.Take(0);
        Assert.That(() => new DataLoader(empty), Throws.ArgumentException.With.Message.Contains("empty"));
    }

    [Test]
    public void DatasetRejectsInconsistentTensors()
    {
        Assert.That(() => new InMemoryDataset(zeros(new long[] { 3, 1, 2, 2 }, ScalarType.Byte), tensor(new long[] { 0, 1 }), new[] { "a", "b" }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("labels"));
        Assert.That(() => new InMemoryDataset(zeros(new long[] { 2, 1, 2, 2 }, ScalarType.Byte), tensor(new long[] { 0, 2 }), new[] { "a", "b" }),
            Throws.ArgumentException.With.Message.Contains("2 classes"));
        Assert.That(() => new InMemoryDataset(zeros(new long[] { 2, 2, 2 }, ScalarType.Byte), tensor(new long[] { 0, 1 }), new[] { "a", "b" }),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("images"));
    }

    [Test]
    public void StratifiedSplitKeepsClassProportionsAndIsReproducible()
    {
        // 256 images whose first pixel is their index, so the parts can be checked for overlap.
        var images = zeros(new long[] { 256, 1, 2, 2 }, ScalarType.Byte);
        images[.., 0, 0, 0] = arange(256, dtype: ScalarType.Int64).to_type(ScalarType.Byte);
        using var dataset = new InMemoryDataset(images, arange(256, dtype: ScalarType.Int64).remainder(4), new[] { "a", "b", "c", "d" });

        var (train, validation) = dataset.SplitStratified(0.25, seed: 9);
        using (train)
        using (validation)
        {
            Assert.That(validation.ClassCounts(), Is.EqualTo(new long[] { 16, 16, 16, 16 }));
            Assert.That(train.ClassCounts(), Is.EqualTo(new long[] { 48, 48, 48, 48 }));
            var trainIds = train.Images[.., 0, 0, 0].to_type(ScalarType.Int64).data<long>().ToArray();
            var validationIds = validation.Images[.., 0, 0, 0].to_type(ScalarType.Int64).data<long>().ToArray();
            Assert.That(trainIds.Concat(validationIds), Is.EquivalentTo(Enumerable.Range(0, 256).Select(i => (long)i)));
            Assert.That(trainIds.Select(i => i % 4), Is.EqualTo(train.Labels.data<long>().ToArray()), "labels travel with their images");

            var (train2, validation2) = dataset.SplitStratified(0.25, seed: 9);
            using (train2)
            using (validation2)
                Assert.That(TensorAssert.SameValues(validation2.Images, validation.Images), Is.True);
            var (train3, validation3) = dataset.SplitStratified(0.25, seed: 10);
            using (train3)
            using (validation3)
                Assert.That(TensorAssert.SameValues(validation3.Images, validation.Images), Is.False);
        }
        Assert.That(() => dataset.SplitStratified(1.0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("validationFraction"));
    }

    [Test]
    public void RealFashionMnistStatistics()
    {
        using var test = new FashionMnistSource().Load(DatasetSplit.Test);
        var statistics = test.ComputeStatistics();
        // Published Fashion-MNIST statistics: mean ≈ 0.286, std ≈ 0.353.
        Assert.That(statistics.Mean[0], Is.EqualTo(0.286).Within(0.005));
        Assert.That(statistics.Std[0], Is.EqualTo(0.353).Within(0.005));
        Assert.That(test.ClassNames[6], Is.EqualTo("Shirt"));
    }

    [Test]
    public void RealMnistDigits()
    {
        using var test = new MnistSource().Load(DatasetSplit.Test);
        Assert.That(test.Count, Is.EqualTo(10_000));
        Assert.That(test.ClassCounts().Sum(), Is.EqualTo(10_000));
        // Published MNIST statistics: mean ≈ 0.1307 (train), std ≈ 0.3081; the test split is close.
        Assert.That(test.ComputeStatistics().Mean[0], Is.EqualTo(0.133).Within(0.005));
    }
}
