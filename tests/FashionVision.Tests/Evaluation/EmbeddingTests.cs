using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;

namespace FashionVision.Tests.Evaluation;

public class EmbeddingTests
{
    [Test]
    public void JointProbabilitiesMatchTheHandComputedCase()
    {
        // A = (0,0), B = (1,0), C = (0,2): squared distances AB = 1, AC = 4, BC = 5. Every point's two neighbours differ
        // in squared distance by 3, 4 and 1, and at the perplexity of (0.75, 0.25), exp(H) with H = −.75 ln .75 − .25 ln .25,
        // each conditional is 0.75 for the nearer neighbour and 0.25 for the farther (β = ln 3 / difference).
        // P(j|i): A → (B .75, C .25), B → (A .75, C .25), C → (A .75, B .25); P = (P(j|i) + P(i|j)) / 6.
        using var points = tensor(new double[] { 0, 0, 1, 0, 0, 2 }, new long[] { 3, 2 });
        double perplexity = Math.Exp(-(0.75 * Math.Log(0.75) + 0.25 * Math.Log(0.25)));
        using var p = Tsne.JointProbabilities(points, perplexity);
        var expected = new double[] { 0, 0.25, 1 / 6.0, 0.25, 0, 1 / 12.0, 1 / 6.0, 1 / 12.0, 0 };
        // The bisection stops at an entropy within 1e-5 of the target (scikit-learn's tolerance): P to about 2e-6.
        Assert.That(p.data<double>().ToArray(), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void TsneKeepsWellSeparatedClustersApart()
    {
        // Three Gaussian clusters of 30 points in 20 dimensions, centres 10 apart, unit spread.
        using var g = new Generator(3);
        using var centres = randn(new long[] { 3, 20 }, generator: g).mul(10);
        using var labels = arange(3, dtype: ScalarType.Int64).repeat_interleave(30);
        using var points = centres.index_select(0, labels).add(randn(new long[] { 90, 20 }, generator: g));

        using var map = Tsne.Fit(points, new TsneOptions { Perplexity = 10, Iterations = 400 });

        Assert.That(map.Embedding.shape, Is.EqualTo(new long[] { 90, 2 }));
        Assert.That(map.KlDivergence, Is.GreaterThan(0).And.LessThan(2));
        var silhouette = Silhouette.Compute(map.Embedding, labels, 3);
        Assert.That(silhouette.Mean, Is.GreaterThan(0.7), silhouette.ToString());
        // Every point's nearest neighbour on the map is in its own cluster.
        using var d = cdist(map.Embedding, map.Embedding).add(eye(90).mul(1e9));
        using var nearest = d.argmin(1);
        Assert.That(TensorAssert.SameValues(labels.index_select(0, nearest), labels), Is.True);

        using var again = Tsne.Fit(points, new TsneOptions { Perplexity = 10, Iterations = 400 });
        Assert.That(TensorAssert.SameValues(again.Embedding, map.Embedding), Is.True, "PCA initialisation is deterministic");
    }

    [Test]
    public void TsneRejectsWhatItCannotEmbed()
    {
        using var two = zeros(2, 4);
        Assert.That(Assert.Throws<ArgumentException>(() => Tsne.Fit(two))!.ParamName, Is.EqualTo("points"));
        using var few = randn(10, 4);
        Assert.That(Assert.Throws<ArgumentException>(() => Tsne.Fit(few, new TsneOptions { Perplexity = 30 }))!.Message, Does.Contain("perplexity"));
        using var bad = full(5, 2, float.NaN);
        Assert.Throws<ArgumentException>(() => Tsne.Fit(bad, new TsneOptions { Perplexity = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TsneOptions { Iterations = 0 }.Validate());
    }

    [Test]
    public void TsneOfTwoThousandPointsPeaksInBoundedMemory()
    {
        // The fit's N×N work is done in place in buffers allocated once: about 12 N² bytes at its peak (48 MB for 2,000
        // points), whatever the iteration count. Fresh N×N temporaries per iteration peaked at 9.4 GB for this N.
        Assume.That(OperatingSystem.IsLinux(), "reads the peak resident set size from /proc/self/status");
        using var g = new Generator(11);
        using var centres = randn(new long[] { 10, 64 }, generator: g).mul(4);
        using var labels = arange(10, dtype: ScalarType.Int64).repeat_interleave(200);
        using var points = centres.index_select(0, labels).add(randn(new long[] { 2000, 64 }, generator: g));
        var options = new TsneOptions { Iterations = 60, ExaggerationIterations = 30 };
        using (Tsne.Fit(points.narrow(0, 0, 100), options with { Perplexity = 10 }))
        {
            // Warms up libtorch's kernels and thread pool, so their one-time memory is not counted below.
        }

        long before = ProcessMemory.ResetPeak();
        using var map = Tsne.Fit(points, options);
        long growth = ProcessMemory.PeakBytes() - before;

        Assert.That(map.Embedding.shape, Is.EqualTo(new long[] { 2000, 2 }));
        TestContext.Out.WriteLine($"peak working set growth: {growth / 1e6:F0} MB");
        Assert.That(growth, Is.LessThan(160_000_000), "t-SNE of 2,000 points must stay within ~3× its 48 MB of N×N buffers");
    }

    [TestCase(1024)]
    [TestCase(1)]
    public void SilhouetteMatchesTheHandComputation(int chunkSize)
    {
        // Class 0 at 0 and 1, class 1 at 4 and 6 (1-D).
        // x=0: a = 1, b = (4+6)/2 = 5 → 0.8;     x=1: a = 1, b = (3+5)/2 = 4 → 0.75;
        // x=4: a = 2, b = (4+3)/2 = 3.5 → 3/7;   x=6: a = 2, b = (6+5)/2 = 5.5 → 7/11.
        using var points = tensor(new float[] { 0, 1, 4, 6 }, new long[] { 4, 1 });
        using var labels = tensor(new long[] { 0, 0, 1, 1 });
        var s = Silhouette.Compute(points, labels, 2, chunkSize);
        double[] expected = { 0.8, 0.75, 3 / 7.0, 7 / 11.0 };
        Assert.That(s.PerSample, Is.EqualTo(expected).Within(1e-6));
        Assert.That(s.PerClass, Is.EqualTo(new[] { 0.775, (3 / 7.0 + 7 / 11.0) / 2 }).Within(1e-6));
        Assert.That(s.Mean, Is.EqualTo(expected.Average()).Within(1e-6));
    }

    [Test]
    public void SilhouetteScoresASingletonZeroAndAnAbsentClassNaN()
    {
        using var points = tensor(new float[] { 0, 1, 10 }, new long[] { 3, 1 });
        using var labels = tensor(new long[] { 0, 0, 1 });
        var s = Silhouette.Compute(points, labels, 3);
        Assert.That(s.PerSample[2], Is.EqualTo(0));
        Assert.That(s.PerClass[2], Is.NaN);
    }

    private static IEnumerable<string> ZooModels() => ModelZoo.Names;

    [TestCaseSource(nameof(ZooModels))]
    public void FeatureExtractorReturnsWhatTheClassifierReadsForEveryZooModel(string name)
    {
        // The penultimate features, fed to the model's classifier, must give exactly the model's logits.
        var registration = ModelZoo.GetRegistration(name);
        var options = ModelZoo.DefaultOptions(name) with { NumClasses = 4, Seed = 1 };
        using var model = ModelZoo.Create(name, options);
        using var g = new Generator(1);
        using var images = randint(0, 256, new long[] { 3, options.InputChannels, registration.InputHeight, registration.InputWidth }, generator: g, dtype: ScalarType.Byte);
        using var data = new InMemoryDataset(images.clone(), tensor(new long[] { 0, 1, 3 }), new[] { "a", "b", "c", "d" });

        using var features = FeatureExtractor.Extract(model, data, new EvaluatorOptions { BatchSize = 2 });

        Assert.That(features.shape, Is.EqualTo(new long[] { 3, model.Classifier.in_features }));
        using var noGrad = no_grad();
        using var logits = model.call(images.to_type(ScalarType.Float32).div(255));
        using var fromFeatures = model.ForwardClassifier(features);
        Assert.That(fromFeatures.allclose(logits, rtol: 1e-4, atol: 1e-4), Is.True);
        Assert.That(model.training, Is.False);
    }

    [Test]
    public void FeatureExtractorReturnsTheEmbeddingACosineHeadReads()
    {
        // A cosine head reads the classifier's weight without calling it: the features still give the model's logits.
        var options = ModelZoo.DefaultOptions("small-cnn") with { NumClasses = 3, Seed = 2, Head = HeadKind.Cosine };
        using var model = ModelZoo.Create("small-cnn", options);
        using var g = new Generator(2);
        using var images = randint(0, 256, new long[] { 2, 1, 28, 28 }, generator: g, dtype: ScalarType.Byte);
        using var data = new InMemoryDataset(images.clone(), tensor(new long[] { 0, 2 }), new[] { "a", "b", "c" });

        using var features = FeatureExtractor.Extract(model, data);

        using var noGrad = no_grad();
        using var logits = model.call(images.to_type(ScalarType.Float32).div(255));
        using var fromFeatures = model.ForwardClassifier(features);
        Assert.That(fromFeatures.allclose(logits, rtol: 1e-4, atol: 1e-4), Is.True);
        Assert.That(logits.abs().max().item<float>(), Is.LessThanOrEqualTo((float)ImageClassifier.DefaultCosineScale + 1e-4f), "cosine logits lie in [-s, s]");
    }
}
