using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Tests.Training;
using TorchSharp.Modules;

namespace FashionVision.Tests.Inference;

public class TestTimeAugmentationTests
{
    /// <summary>
    /// A classifier whose logits can be worked out by hand: class c scores the sum of the pixels in column band c of a
    /// 1×3×3 image (left, middle, right column), plus nothing else.
    /// </summary>
    internal sealed class ColumnSums : nn.Module<Tensor, Tensor>
    {
        public ColumnSums() : base("ColumnSums") { }

        public override Tensor forward(Tensor input) => input.sum([1, 2]);
    }

    private static double[] Softmax(double[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        return e.Select(v => v / e.Sum()).ToArray();
    }

    // The image  1 2 3 / 4 5 6 / 7 8 9 and its column sums 12, 15, 18.
    private static Tensor Image() => arange(1, 10, dtype: ScalarType.Float32).view(1, 1, 3, 3);

    [Test]
    public void ViewsMirrorAndShiftWithBlackComingIn()
    {
        using var scope = NewDisposeScope();
        var image = Image();
        Assert.That(TestTimeAugmentation.ApplyView(image, new TtaView(true, 0, 0)).flatten().data<float>().ToArray(),
            Is.EqualTo(new float[] { 3, 2, 1, 6, 5, 4, 9, 8, 7 }));
        Assert.That(TestTimeAugmentation.ApplyView(image, new TtaView(false, 1, 0)).flatten().data<float>().ToArray(),
            Is.EqualTo(new float[] { 0, 1, 2, 0, 4, 5, 0, 7, 8 }), "content moves right, a black column comes in on the left");
        Assert.That(TestTimeAugmentation.ApplyView(image, new TtaView(false, 0, -1)).flatten().data<float>().ToArray(),
            Is.EqualTo(new float[] { 4, 5, 6, 7, 8, 9, 0, 0, 0 }), "content moves up");
        Assert.That(TestTimeAugmentation.ApplyView(image, new TtaView(true, -1, 1)).flatten().data<float>().ToArray(),
            Is.EqualTo(new float[] { 0, 0, 0, 2, 1, 0, 5, 4, 0 }), "mirrored first, then shifted left and down");
        // Normalised inputs: the pixels coming in are black in normalised units, −mean/std.
        var stats = new ChannelStatistics([0.5f], [0.25f]);
        var fill = TestTimeAugmentation.BlackLevel(stats)!;
        Assert.That(fill, Is.EqualTo(new[] { -2f }));
        Assert.That(TestTimeAugmentation.ApplyView(image, new TtaView(false, 0, 1), fill).flatten().data<float>().ToArray(),
            Is.EqualTo(new float[] { -2, -2, -2, 1, 2, 3, 4, 5, 6 }));
        Assert.Throws<ArgumentException>(() => TestTimeAugmentation.ApplyView(image, new TtaView(false, 3, 0)));
        Assert.Throws<ArgumentException>(() => TestTimeAugmentation.ApplyView(image, new TtaView(false, 1, 0), [1f, 2f]));
    }

    [Test]
    public void FlipAndShiftAveragesTheSoftmaxOfHandComputedLogits()
    {
        using var scope = NewDisposeScope();
        var policy = TestTimeAugmentation.Parse("flip,shift1");
        Assert.That(policy.Views, Has.Count.EqualTo(10));
        // Column sums of each view of 1 2 3 / 4 5 6 / 7 8 9, worked out on paper (flip swaps the outer columns; a shift
        // right drops the right column and brings in a black one; a shift up drops the top row, a shift down the bottom one).
        // Views in the policy's order: none, left, right, up, down; then the same for the mirror.
        double[][] plain =
        [
            [12, 15, 18], [15, 18, 0], [0, 12, 15], [11, 13, 15], [5, 7, 9],
        ];
        double[][] mirrored =
        [
            [18, 15, 12], [15, 12, 0], [0, 18, 15], [15, 13, 11], [9, 7, 5],
        ];
        var viewLogits = plain.Concat(mirrored).ToArray();
        var expected = Enumerable.Range(0, 3).Select(c => viewLogits.Average(l => Softmax(l)[c])).ToArray();
        var expectedMeanLogits = Softmax(Enumerable.Range(0, 3).Select(c => viewLogits.Average(l => l[c])).ToArray());

        using var model = new ColumnSums();
        var p = policy.Forward(model, Image()).softmax(1).to(ScalarType.Float64).data<double>().ToArray();
        Assert.That(p, Is.EqualTo(expected).Within(1e-6));
        var logits = TestTimeAugmentation.Parse("flip,shift1", PredictionAveraging.Logits).Forward(model, Image());
        Assert.That(logits.softmax(1).to(ScalarType.Float64).data<double>().ToArray(), Is.EqualTo(expectedMeanLogits).Within(1e-6));

        // The Predictor and the TtaClassifier module average the same way.
        using var predictor = new Predictor(new ColumnSums(), ["left", "middle", "right"], null, (1, 3, 3), ownsModel: true, tta: policy);
        Assert.That(predictor.Predict(Image(), topK: 1)[0].Probabilities, Is.EqualTo(expected).Within(1e-6));
        using var wrapped = new TtaClassifier(new ColumnSums(), policy);
        Assert.That(wrapped.call(Image()).softmax(1).to(ScalarType.Float64).data<double>().ToArray(), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void TheEvaluatorAveragesViewsOnNormalisedBatches()
    {
        using var data = TrainingTestKit.Bars(40);
        using var model = new TrainingTestKit.TinyNet();
        model.eval();
        var stats = data.ComputeStatistics();
        var policy = TestTimeAugmentation.Shifts(1);
        var result = Evaluator.Evaluate(model, data, new EvaluatorOptions { Normalization = stats, Tta = policy, BatchSize = 16 });

        // By hand: shift the raw [0, 1] images (black comes in), normalise, average the softmax over the five views.
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var raw = data.Images.to_type(ScalarType.Float32).div(255);
        var views = new[] { (0, 0), (-1, 0), (1, 0), (0, -1), (0, 1) }.Select(s =>
        {
            var shifted = roll(raw, [s.Item2, s.Item1], [2, 3]);
            if (s.Item1 == 1) shifted[.., .., .., 0] = 0;
            if (s.Item1 == -1) shifted[.., .., .., -1] = 0;
            if (s.Item2 == 1) shifted[.., .., 0, ..] = 0;
            if (s.Item2 == -1) shifted[.., .., -1, ..] = 0;
            return model.call((shifted - stats.Mean[0]) / stats.Std[0]).softmax(1);
        }).ToArray();
        var expected = stack(views).mean([0]);
        var evaluated = Evaluator.Summarize(expected, data.Labels, data.ClassNames);
        Assert.That(result.Accuracy, Is.EqualTo(evaluated.Accuracy));
        Assert.That(result.Loss!.Value, Is.EqualTo(evaluated.Loss!.Value).Within(1e-5));
    }

    [Test]
    public void PoliciesParseAndDescribeThemselves()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TestTimeAugmentation.Parse("none").IsIdentity, Is.True);
            Assert.That(TestTimeAugmentation.Parse("flip").Views, Is.EqualTo(new[] { TtaView.Identity, new TtaView(true, 0, 0) }));
            Assert.That(TestTimeAugmentation.Parse("Shift2").Views, Has.Count.EqualTo(5));
            Assert.That(TestTimeAugmentation.Parse("shift2").Views.Max(v => v.ShiftX), Is.EqualTo(2));
            Assert.That(TestTimeAugmentation.Parse(" shift1 , flip ").Describe(), Is.EqualTo("flip,shift1"));
            Assert.That(TestTimeAugmentation.FlipAndShifts(1).Describe(), Is.EqualTo("flip,shift1"));
            Assert.That(new TestTimeAugmentation([TtaView.Identity, new TtaView(false, 2, -1)]).Describe(), Is.EqualTo("identity shift(+2,-1)"));
        });
        foreach (var bad in new[] { "", "flop", "shift0", "shift", "shift1,shift2", "shift-1" })
            Assert.Throws<FormatException>(() => TestTimeAugmentation.Parse(bad), bad);
        Assert.Throws<ArgumentException>(() => new TestTimeAugmentation([]));
        Assert.Throws<ArgumentException>(() => new TestTimeAugmentation([TtaView.Identity, TtaView.Identity]));
        Assert.Throws<ArgumentOutOfRangeException>(() => TestTimeAugmentation.Shifts(0));
    }
}

public class EnsembleTests
{
    /// <summary>A fixed linear classifier: logits = flatten(x) · W, with W given by hand.</summary>
    private sealed class FixedLinear : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc;

        public FixedLinear(float[] weights) : base("FixedLinear")
        {
            fc = nn.Linear(2, 3, hasBias: false);
            using (no_grad())
                fc.weight!.copy_(tensor(weights, [3, 2]));
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => fc.call(input.flatten(1));
    }

    [Test]
    public void MembersProbabilitiesAreAveraged()
    {
        using var scope = NewDisposeScope();
        // Input (1, 2): member A gives logits (1, 2, 0), member B gives (0, 0, 4).
        var input = tensor(new float[] { 1, 2 }, [1, 1, 1, 2]);
        using var ensemble = new EnsembleClassifier([new FixedLinear([1, 0, 0, 1, 0, 0]), new FixedLinear([0, 0, 0, 0, 2, 1])]);
        static double[] Softmax(params double[] l) { var e = l.Select(Math.Exp).ToArray(); return e.Select(v => v / e.Sum()).ToArray(); }
        var a = Softmax(1, 2, 0);
        var b = Softmax(0, 0, 4);
        var expected = a.Zip(b, (x, y) => (x + y) / 2).ToArray();
        Assert.That(ensemble.call(input).softmax(1).to(ScalarType.Float64).data<double>().ToArray(), Is.EqualTo(expected).Within(1e-6));

        using var byLogits = new EnsembleClassifier([new FixedLinear([1, 0, 0, 1, 0, 0]), new FixedLinear([0, 0, 0, 0, 2, 1])], PredictionAveraging.Logits);
        Assert.That(byLogits.call(input).to(ScalarType.Float64).data<double>().ToArray(), Is.EqualTo(new[] { 0.5, 1.0, 2.0 }).Within(1e-6));
        Assert.That(ensemble.Members, Has.Count.EqualTo(2));
        Assert.That(ensemble.state_dict().Keys, Does.Contain("members.1.fc.weight"));
        Assert.Throws<ArgumentException>(() => new EnsembleClassifier([]));
    }

    [Test]
    public void CheckpointsMakeAnEnsembleForTheEvaluatorAndThePredictor()
    {
        string dir = TrainingTestKit.TempDirectory();
        try
        {
            using var train = TrainingTestKit.Bars(64);
            string[] paths = [Path.Combine(dir, "a"), Path.Combine(dir, "b")];
            for (int i = 0; i < 2; i++)
            {
                var options = new FashionVision.Models.ModelOptions { NumClasses = 3, Width = 0.25, Seed = 10 + i };
                using var model = FashionVision.Models.ModelZoo.Create(FashionVision.Models.ModelZoo.FastCnnName, options);
                using var trainer = new FashionVision.Training.Trainer(model, new FashionVision.Training.TrainerOptions
                {
                    Epochs = 1, BatchSize = 16, Seed = i, CheckpointDirectory = paths[i],
                }.WithZooModel(FashionVision.Models.ModelZoo.FastCnnName, options));
                using var subset = train.Take(40);
                trainer.Fit(i == 0 ? train : subset);   // different statistics: each member keeps its own normalisation
            }
            string[] checkpoints = paths.Select(p => Path.Combine(p, "last.ckpt")).ToArray();

            using var ensemble = EnsembleClassifier.FromCheckpoints(checkpoints);
            Assert.That(ensemble.Manifests.Select(m => m.ModelName), Is.All.EqualTo(FashionVision.Models.ModelZoo.FastCnnName));
            Assert.That(ensemble.Manifests[0].Normalization!.Mean, Is.Not.EqualTo(ensemble.Manifests[1].Normalization!.Mean));

            // The ensemble's prediction is the mean of its members' own predictors' probabilities.
            using var first = Predictor.FromCheckpoint(checkpoints[0]);
            using var second = Predictor.FromCheckpoint(checkpoints[1]);
            using var both = Predictor.FromCheckpoints(checkpoints);
            var pixels = Enumerable.Range(0, 4 * 64).Select(i => (i * 7 % 23) / 23f).ToArray();
            var a = first.Predict(pixels, 4);
            var b = second.Predict(pixels, 4);
            var averaged = both.Predict(pixels, 4);
            for (int i = 0; i < 4; i++)
                Assert.That(averaged[i].Probabilities, Is.EqualTo(a[i].Probabilities.Zip(b[i].Probabilities, (x, y) => (x + y) / 2)).Within(1e-5));

            // The Evaluator takes the ensemble as one model (inputs in [0, 1]: the members normalise themselves).
            var result = Evaluator.Evaluate(ensemble, train);
            using (var scope = NewDisposeScope())
            {
                var images = train.Images.to_type(ScalarType.Float32).div(255);
                var pa = tensor(first.Predict(images).SelectMany(p => p.Probabilities).ToArray(), [64, 3]);
                var pb = tensor(second.Predict(images).SelectMany(p => p.Probabilities).ToArray(), [64, 3]);
                var expected = Evaluator.Summarize((pa + pb) / 2, train.Labels, train.ClassNames);
                Assert.That(result.Accuracy, Is.EqualTo(expected.Accuracy));
                Assert.That(result.Loss!.Value, Is.EqualTo(expected.Loss!.Value).Within(1e-5));
            }

            using var other = TrainingTestKit.Bars(64, classes: 4);
            var options4 = new FashionVision.Models.ModelOptions { NumClasses = 4, Width = 0.25, Seed = 1 };
            using (var model = FashionVision.Models.ModelZoo.Create(FashionVision.Models.ModelZoo.FastCnnName, options4))
            using (var trainer = new FashionVision.Training.Trainer(model, new FashionVision.Training.TrainerOptions
                   { Epochs = 1, BatchSize = 16, CheckpointDirectory = Path.Combine(dir, "c") }.WithZooModel(FashionVision.Models.ModelZoo.FastCnnName, options4)))
                trainer.Fit(other);
            var e = Assert.Throws<ArgumentException>(() => EnsembleClassifier.FromCheckpoints([checkpoints[0], Path.Combine(dir, "c", "last.ckpt")]))!;
            Assert.That(e.Message, Does.Contain("share their classes"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
