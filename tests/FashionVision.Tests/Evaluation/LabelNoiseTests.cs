using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Models;
using FashionVision.Tests.Training;
using FashionVision.Training;

namespace FashionVision.Tests.Evaluation;

public class LabelNoiseTests
{
    private static readonly string[] Abc = { "a", "b", "c" };

    [Test]
    public void ConfidentJointThresholdsAndFlagsMatchTheHandComputation()
    {
        // Given labels 0,0,0,1,1,2. Thresholds: t0 = mean(.8,.7,.2) = 0.5667, t1 = mean(.8,.6) = 0.7, t2 = 0.9.
        // Sample 2 (labelled 0) has p1 = 0.75 ≥ t1 and p0 = .2 < t0: confident class 1 → an issue.
        // Sample 4 (labelled 1) has p1 = .6 < t1 and nothing else reaches its threshold: not counted.
        using var p = tensor(new float[]
        {
            0.8f, 0.1f, 0.1f,
            0.7f, 0.2f, 0.1f,
            0.2f, 0.75f, 0.05f,
            0.1f, 0.8f, 0.1f,
            0.3f, 0.6f, 0.1f,
            0.05f, 0.05f, 0.9f,
        }, new long[] { 6, 3 });
        using var labels = tensor(new long[] { 0, 0, 0, 1, 1, 2 });
        var report = ConfidentLearning.FindIssues(p, labels, Abc, LabelIssueFilter.ConfidentJoint);

        Assert.That(report.Thresholds, Is.EqualTo(new[] { 1.7 / 3, 0.7, 0.9 }).Within(1e-6));
        Assert.That(report.ConfidentJoint, Is.EqualTo(new long[,] { { 2, 1, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }));
        // Calibrated: row 0 scaled to 3 samples, row 1 (one confident sample) to 2, row 2 to 1; Q = C̃ / 6.
        Assert.That(report.JointDistribution, Is.EqualTo(new double[,] { { 2 / 6.0, 1 / 6.0, 0 }, { 0, 2 / 6.0, 0 }, { 0, 0, 1 / 6.0 } }).Within(1e-9));
        Assert.That(report.EstimatedNoiseRate, Is.EqualTo(1 / 6.0).Within(1e-9));
        var issue = report.Issues.Single();
        Assert.That(issue, Is.EqualTo(new LabelIssue(2, 0, 1, 0.2f, 0.75f, null)).Using<LabelIssue>((x, y) =>
            x.Index == y.Index && x.GivenLabel == y.GivenLabel && x.SuggestedLabel == y.SuggestedLabel
            && Math.Abs(x.SelfConfidence - y.SelfConfidence) < 1e-6 && Math.Abs(x.SuggestedConfidence - y.SuggestedConfidence) < 1e-6));
        Assert.That(issue.Loss, Is.EqualTo(-Math.Log(0.2)).Within(1e-6));
        // The loss ranking covers every sample: sample 2 (p = .2) first, then 4 (.6), then 1 (.7).
        Assert.That(report.RankByLoss(3), Is.EqualTo(new long[] { 2, 4, 1 }));

        // Prune by noise rate removes round(6 · Q[0,1]) = 1 sample labelled 0: the largest p1 − p0, sample 2 again.
        var pruned = ConfidentLearning.FindIssues(p, labels, Abc, LabelIssueFilter.PruneByNoiseRate);
        Assert.That(pruned.Issues.Select(i => i.Index), Is.EqualTo(new long[] { 2 }));
        // The naive filter also flags nothing else here: every other argmax equals the label.
        Assert.That(ConfidentLearning.FindIssues(p, labels, Abc, LabelIssueFilter.PredictedNotGiven).Issues.Select(i => i.Index), Is.EqualTo(new long[] { 2 }));
    }

    // The confident joint only counts a flip whose true class reaches its threshold, so it recalls less than pruning.
    [TestCase(LabelIssueFilter.ConfidentJoint, 0.8)]
    [TestCase(LabelIssueFilter.PruneByNoiseRate, 0.9)]
    [TestCase(LabelIssueFilter.Both, 0.8)]
    public void FindsPlantedFlipsInSyntheticProbabilities(LabelIssueFilter filter, double minimumRecall)
    {
        // 900 samples of 3 classes; a model that is right about the TRUE class with probability 0.7–0.99, except for 3%
        // of hard samples it gets wrong with low confidence. 10% of the given labels are flipped.
        using var g = new Generator(7);
        const int n = 900, k = 3;
        using var truth = randint(0, k, new long[] { n }, generator: g, dtype: ScalarType.Int64);
        using var hard = rand(new long[] { n }, generator: g).lt(0.03);
        using var top = where(hard, full(n, 0.45f), rand(new long[] { n }, generator: g).mul(0.29).add(0.7));
        using var predicted = where(hard, truth.add(1).remainder(k), truth);
        using var p = top.neg().add(1).div(k - 1).unsqueeze(1).expand(n, k).clone().scatter_(1, predicted.unsqueeze(1), top.unsqueeze(1));
        using var flip = randperm(n, generator: g).narrow(0, 0, n / 10);
        using var given = truth.clone();
        given.index_copy_(0, flip, truth.index_select(0, flip).add(randint(1, k, new long[] { n / 10 }, generator: g, dtype: ScalarType.Int64)).remainder(k));
        var flipped = flip.data<long>().ToHashSet();
        var trueClass = truth.data<long>().ToArray();

        var report = ConfidentLearning.FindIssues(p, given, Abc, filter);

        double found = report.Issues.Count(i => flipped.Contains(i.Index));
        Assert.That(found / flipped.Count, Is.GreaterThanOrEqualTo(minimumRecall), "recall");
        Assert.That(found / report.Issues.Count, Is.GreaterThanOrEqualTo(0.85), "precision");
        Assert.That(report.EstimatedNoiseRate, Is.EqualTo(0.1).Within(0.04));
        Assert.That(report.Issues.Select(i => i.SelfConfidence), Is.Ordered.Ascending);
        var suggestedRight = report.Issues.Where(i => flipped.Contains(i.Index)).Count(i => i.SuggestedLabel == trueClass[i.Index]);
        Assert.That(suggestedRight / found, Is.GreaterThanOrEqualTo(0.95), "the suggestion is the true class");
    }

    [Test]
    public void BadInputIsRejectedWithTheArgumentNamed()
    {
        using var p = full(4, 3, 1 / 3.0f);
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        Assert.That(Assert.Throws<ArgumentException>(() => ConfidentLearning.FindIssues(p, labels, Abc))!.ParamName, Is.EqualTo("givenLabels"));
        using var shortLabels = tensor(new long[] { 0, 1 });
        Assert.That(Assert.Throws<ArgumentException>(() => ConfidentLearning.FindIssues(p, shortLabels, Abc))!.ParamName, Is.EqualTo("givenLabels"));
        using var wide = full(4, 5, 0.2f);
        Assert.That(Assert.Throws<ArgumentException>(() => ConfidentLearning.FindIssues(wide, labels, Abc))!.ParamName, Is.EqualTo("probabilities"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LabelNoiseOptions { Folds = 1 }.Validate());
        Assert.That(Assert.Throws<ArgumentException>(() => new LabelNoiseOptions { Model = "nope" }.Validate())!.Message, Does.Contain("nope"));
    }

    [Test]
    public void PlantedNoiseFlipsExactlyTheRequestedShareToOtherClassesReproducibly()
    {
        using var data = TrainingTestKit.Bars(400, seed: 3);
        using var noisy = PlantedLabelNoise.Flip(data, 0.05, seed: 11);
        using var again = PlantedLabelNoise.Flip(data, 0.05, seed: 11);
        Assert.That(noisy.FlippedIndices, Has.Count.EqualTo(20));
        Assert.That(again.FlippedIndices, Is.EqualTo(noisy.FlippedIndices));
        using var changed = noisy.Dataset.Labels.ne(data.Labels).nonzero().flatten();
        Assert.That(changed.data<long>().ToArray(), Is.EqualTo(noisy.FlippedIndices), "every flipped label differs, every other one is kept");
        Assert.That(TensorAssert.SameValues(noisy.Dataset.Images, data.Images), Is.True);

        var score = noisy.Score(noisy.FlippedIndices.Take(15).Concat(new long[] { -1, -2, -3, -4, -5 }));
        Assert.That((score.Flagged, score.Found, score.Planted), Is.EqualTo((20L, 15L, 20L)));
        Assert.That(score.Precision, Is.EqualTo(0.75));
        Assert.That(score.Recall, Is.EqualTo(0.75));
    }

    [Test]
    public void KFoldFinderFindsFlippedLabelsInALearnableSet()
    {
        // fast-cnn at a quarter width learns the bars in a few epochs; 3 folds on 600 images with 5% flips.
        using var clean = TrainingTestKit.Bars(600, seed: 5);
        using var noisy = PlantedLabelNoise.Flip(clean, 0.05, seed: 1);
        var options = new LabelNoiseOptions
        {
            Folds = 3,
            Seed = 2,
            ModelOptions = new ModelOptions { Width = 0.25 },
            Training = new TrainerOptions { Epochs = 4, BatchSize = 32, Optimizer = new OptimizerOptions { LearningRate = 3e-3 } },
        };

        using var oof = LabelNoiseFinder.PredictOutOfFold(noisy.Dataset, options);
        Assert.That(oof.Probabilities.shape, Is.EqualTo(new long[] { 600, 3 }));
        using var rowSums = oof.Probabilities.sum(1);
        Assert.That(rowSums.allclose(ones(600), rtol: 0, atol: 1e-4), Is.True, "every row was filled by exactly one held-out model");
        Assert.That(oof.FoldAccuracies, Is.All.GreaterThan(0.85));
        Assert.That(oof.ModelsAgainst!.max().item<long>(), Is.LessThanOrEqualTo(3));

        var report = oof.FindIssues(noisy.Dataset, options.Filter);   // what LabelNoiseFinder.Find returns
        var score = noisy.Score(report.Issues.Select(i => i.Index));
        Assert.That(score.Recall, Is.GreaterThanOrEqualTo(0.8), score.ToString());
        Assert.That(score.Precision, Is.GreaterThanOrEqualTo(0.7), score.ToString());
        Assert.That(report.Models, Is.EqualTo(3));
        var found = report.Issues.Where(i => noisy.FlippedIndices.Contains(i.Index)).ToList();
        Assert.That(found.Average(i => i.ModelsAgainst!.Value), Is.GreaterThan(1.5), "most fold models reject a flipped label");
    }

    [Test]
    public void StratifiedFoldsSplitEveryClassEvenlyAndReproducibly()
    {
        using var labels = cat(new[] { zeros(10, ScalarType.Int64), ones(7, ScalarType.Int64), full(5, 2L, ScalarType.Int64) });
        using var folds = StratifiedKFold.Assign(labels, 3, folds: 3, seed: 4);
        using var again = StratifiedKFold.Assign(labels, 3, folds: 3, seed: 4);
        using var other = StratifiedKFold.Assign(labels, 3, folds: 3, seed: 5);
        Assert.That(TensorAssert.SameValues(folds, again), Is.True);
        Assert.That(TensorAssert.SameValues(folds, other), Is.False);
        var f = folds.data<long>().ToArray();
        var l = labels.data<long>().ToArray();
        Assert.That(f, Is.All.InRange(0, 2));
        for (int c = 0; c < 3; c++)
        {
            var perFold = Enumerable.Range(0, 3).Select(k => f.Where((x, i) => l[i] == c && x == k).Count()).ToArray();
            Assert.That(perFold.Max() - perFold.Min(), Is.LessThanOrEqualTo(1), $"class {c}");
        }
        var sizes = Enumerable.Range(0, 3).Select(k => f.Count(x => x == k)).ToArray();
        Assert.That(sizes.Max() - sizes.Min(), Is.LessThanOrEqualTo(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => StratifiedKFold.Assign(labels, 3, folds: 1, seed: 0));
    }
}
