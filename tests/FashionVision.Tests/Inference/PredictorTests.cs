using FashionVision.Data;
using FashionVision.Inference;
using FashionVision.Tests.Training;
using FashionVision.Training;

namespace FashionVision.Tests.Inference;

public class PredictorTests
{
    private static readonly ChannelStatistics Stats = new(new[] { 0.3f }, new[] { 0.25f });

    private static float[] Pixels(int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count * 64).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    [Test]
    public void PredictsTheModelsSoftmaxOnNormalisedInput()
    {
        using var model = new TrainingTestKit.TinyNet();
        using var predictor = new Predictor(model, TrainingTestKit.ThreeClasses, Stats, (1, 8, 8));
        var pixels = Pixels(4, 1);
        var predictions = predictor.Predict(pixels, 4, topK: 2);

        using var x = tensor(pixels, new long[] { 4, 1, 8, 8 });
        using var noGrad = no_grad();
        model.eval();
        using var p = model.forward(x.sub(0.3f).div(0.25f)).softmax(1);
        var expected = p.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            Assert.That(predictions[i].Probabilities, Is.EqualTo(expected.Skip(3 * i).Take(3)).Within(1e-5));
            Assert.That(predictions[i].TopK, Has.Count.EqualTo(2));
            Assert.That(predictions[i].TopK[0].Probability, Is.GreaterThanOrEqualTo(predictions[i].TopK[1].Probability));
            Assert.That(predictions[i].ClassName, Is.EqualTo(TrainingTestKit.ThreeClasses[predictions[i].ClassIndex]));
        }
    }

    [Test]
    public void EightThreadsGetExactlyTheSingleThreadedResults()
    {
        using var model = new TrainingTestKit.TinyNet();
        using var predictor = new Predictor(model, TrainingTestKit.ThreeClasses, Stats, (1, 8, 8));
        var inputs = Enumerable.Range(0, 40).Select(i => Pixels(1 + i % 3, i)).ToArray();
        var expected = inputs.Select(p => predictor.Predict(p, p.Length / 64)).ToArray();
        var failures = 0;
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            for (int round = 0; round < 5; round++)
                for (int i = 0; i < inputs.Length; i++)
                {
                    int k = (i + t * 7) % inputs.Length;
                    var got = predictor.Predict(inputs[k], inputs[k].Length / 64);
                    for (int j = 0; j < got.Count; j++)
                        if (got[j].ClassIndex != expected[k][j].ClassIndex || !got[j].Probabilities.SequenceEqual(expected[k][j].Probabilities))
                            Interlocked.Increment(ref failures);
                }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.That(failures, Is.Zero);
    }

    [Test]
    public void BadInputGetsClearExceptions()
    {
        using var model = new TrainingTestKit.TinyNet();
        using var predictor = new Predictor(model, TrainingTestKit.ThreeClasses, null, (1, 8, 8));
        Assert.That(Assert.Throws<ArgumentException>(() => predictor.Predict(new float[63], 1))!.ParamName, Is.EqualTo("pixels"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => predictor.Predict(new float[64], 0))!.ParamName, Is.EqualTo("count"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => predictor.Predict(new float[64], 1, topK: 4))!.ParamName, Is.EqualTo("topK"));
        var nan = new float[64];
        nan[5] = float.NaN;
        Assert.That(Assert.Throws<ArgumentException>(() => predictor.Predict(nan, 1))!.Message, Does.Contain("NaN"));
        using var wrongShape = zeros(2, 1, 9, 9);
        Assert.That(Assert.Throws<ArgumentException>(() => predictor.Predict(wrongShape))!.ParamName, Is.EqualTo("images"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Predictor(model, new[] { "a", "b" }, null, (1, 8, 8)))!.ParamName, Is.EqualTo("classNames"));
        predictor.Dispose();
        Assert.Throws<ObjectDisposedException>(() => predictor.Predict(new float[64], 1));
    }

    [Test]
    public void LoadsFromATrainingCheckpointAndRejectsAnotherArchitectureOrClassCount()
    {
        string dir = TrainingTestKit.TempDirectory();
        try
        {
            using var train = TrainingTestKit.Bars(64);
            using var model = new TrainingTestKit.TinyNet();
            using (var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, CheckpointDirectory = dir, EmaDecay = 0.5, ModelName = "tiny" }))
                trainer.Fit(train);
            string path = Path.Combine(dir, "last.ckpt");

            using var predictor = Predictor.FromCheckpoint(path, m =>
            {
                Assert.That(m.ModelName, Is.EqualTo("tiny"));
                return new TrainingTestKit.TinyNet(classes: m.ClassNames.Count, seed: 42);
            });
            Assert.That(predictor.ClassNames, Is.EqualTo(TrainingTestKit.ThreeClasses));
            Assert.That(predictor.InputShape, Is.EqualTo((1, 8, 8)));
            Assert.That(predictor.Normalization, Is.Not.Null);
            // The trained model holds the EMA weights after Fit, which is what the predictor loads.
            var pixels = Pixels(3, 5);
            using var direct = new Predictor(model, TrainingTestKit.ThreeClasses, predictor.Normalization, (1, 8, 8));
            Assert.That(predictor.Predict(pixels, 3).Select(p => p.Probabilities), Is.EqualTo(direct.Predict(pixels, 3).Select(p => p.Probabilities)).Within(1e-6));

            var e = Assert.Throws<CheckpointMismatchException>(() => Predictor.FromCheckpoint(path, _ => new TrainingTestKit.TinyNet(channels: 6)))!;
            Assert.That(e.MismatchedShapes, Is.Not.Empty);
            Assert.That(e.Message, Does.Contain("conv.weight"));
            var other = Assert.Throws<CheckpointMismatchException>(() => Predictor.FromCheckpoint(path, _ => nn.Sequential(nn.Flatten(), nn.Linear(64, 3))))!;
            Assert.That(other.Missing, Is.Not.Empty);
            Assert.That(other.Unexpected, Is.Not.Empty);
            var classes = Assert.Throws<CheckpointMismatchException>(() => Predictor.FromCheckpoint(path, _ => new TrainingTestKit.TinyNet(classes: 5)))!;
            Assert.That(classes.Message, Does.Contain("head.weight"));

            string junk = Path.Combine(dir, "junk.ckpt");
            File.WriteAllText(junk, "not a zip");
            Assert.Throws<CheckpointFormatException>(() => Predictor.FromCheckpoint(junk, _ => new TrainingTestKit.TinyNet()));
            Assert.Throws<FileNotFoundException>(() => Predictor.FromCheckpoint(Path.Combine(dir, "missing.ckpt"), _ => new TrainingTestKit.TinyNet()));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

public class ZooCheckpointPredictorTests
{
    [Test]
    public void RebuildsAZooModelFromItsCheckpoint()
    {
        string dir = TrainingTestKit.TempDirectory();
        try
        {
            using var train = TrainingTestKit.Bars(64);
            var modelOptions = new FashionVision.Models.ModelOptions { NumClasses = 3, Width = 0.25, Seed = 3 };
            using var model = FashionVision.Models.ModelZoo.Create(FashionVision.Models.ModelZoo.FastCnnName, modelOptions);
            var options = new TrainerOptions { Epochs = 1, BatchSize = 16, CheckpointDirectory = dir }.WithZooModel(FashionVision.Models.ModelZoo.FastCnnName, modelOptions);
            Assert.That(options.ModelOptionsJson, Does.Contain("\"Width\":0.25").And.Not.Contain("Seed"));
            using (var trainer = new Trainer(model, options))
                trainer.Fit(train);

            using var predictor = Predictor.FromCheckpoint(Path.Combine(dir, "last.ckpt"));
            using var direct = new Predictor(model, TrainingTestKit.ThreeClasses, predictor.Normalization, (1, 8, 8));
            var pixels = Enumerable.Range(0, 2 * 64).Select(i => (i % 17) / 17f).ToArray();
            Assert.That(predictor.Predict(pixels, 2).Select(p => p.Probabilities), Is.EqualTo(direct.Predict(pixels, 2).Select(p => p.Probabilities)).Within(1e-6));

            using var tiny = new TrainingTestKit.TinyNet();
            using (var trainer = new Trainer(tiny, new TrainerOptions { Epochs = 1, BatchSize = 16, CheckpointDirectory = Path.Combine(dir, "tiny") }))
                trainer.Fit(train);
            var e = Assert.Throws<CheckpointFormatException>(() => Predictor.FromCheckpoint(Path.Combine(dir, "tiny", "last.ckpt")))!;
            Assert.That(e.Message, Does.Contain("does not name a zoo model"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
