using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Tests.Training;

namespace FashionVision.Tests.Evaluation;

public class EvaluatorTests
{
    private static readonly string[] Names = { "cat", "dog", "bird" };

    // rows = true class, columns = predicted class
    private static readonly long[,] Confusion =
    {
        { 5, 1, 0 },  // cat: support 6
        { 2, 3, 1 },  // dog: support 6
        { 0, 0, 4 },  // bird: support 4
    };

    [Test]
    public void PerClassMetricsAndAveragesMatchTheHandComputation()
    {
        var r = new EvaluationResult(Confusion, Names);
        // cat: P = 5/7, R = 5/6; dog: P = 3/4, R = 3/6; bird: P = 4/5, R = 4/4.
        double[] p = { 5 / 7.0, 3 / 4.0, 4 / 5.0 }, rc = { 5 / 6.0, 0.5, 1.0 };
        double[] f1 = p.Zip(rc, (a, b) => 2 * a * b / (a + b)).ToArray();
        Assert.That(r.Accuracy, Is.EqualTo(12 / 16.0));
        Assert.That(r.Count, Is.EqualTo(16));
        Assert.That(r.PerClass.Select(m => m.Precision), Is.EqualTo(p).Within(1e-12));
        Assert.That(r.PerClass.Select(m => m.Recall), Is.EqualTo(rc).Within(1e-12));
        Assert.That(r.PerClass.Select(m => m.F1), Is.EqualTo(f1).Within(1e-12));
        Assert.That(r.PerClass.Select(m => m.Support), Is.EqualTo(new long[] { 6, 6, 4 }));
        Assert.That(r.MacroAverage.Precision, Is.EqualTo(p.Average()).Within(1e-12));
        Assert.That(r.MacroAverage.F1, Is.EqualTo(f1.Average()).Within(1e-12));
        Assert.That(r.WeightedAverage.Recall, Is.EqualTo((6 * rc[0] + 6 * rc[1] + 4 * rc[2]) / 16).Within(1e-12));
        Assert.That(r.WeightedAverage.F1, Is.EqualTo((6 * f1[0] + 6 * f1[1] + 4 * f1[2]) / 16).Within(1e-12));
        Assert.That(r.MostConfusedPairs(1).Single(), Is.EqualTo((1, 0, 2L)));
    }

    [Test]
    public void ReportIsLaidOutLikeScikitLearns()
    {
        var report = new EvaluationResult(Confusion, Names).ToReport();
        var lines = report.Split('\n');
        // scikit-learn: '{:>{width}s} ' + ' {:>9}' per column, width = the longest of the names and "weighted avg".
        Assert.That(lines[0], Is.EqualTo("             " + " precision    recall  f1-score   support"));
        Assert.That(lines[1], Is.Empty);
        Assert.That(lines[2], Is.EqualTo("         cat " + "      0.71      0.83      0.77         6"));
        Assert.That(lines[6], Is.EqualTo("    accuracy " + "                          0.75        16"));
        Assert.That(lines[7], Is.EqualTo("   macro avg " + "      0.75      0.78      0.75        16"));
        Assert.That(lines[8], Does.StartWith("weighted avg "));
        Assert.That(report, Does.Contain("weighted avg"));
    }

    [Test]
    public void SummarizeBuildsConfusionTopKAndConfidentMistakesWithIndices()
    {
        // 4 samples, 3 classes. Sample 1 (true 0) predicted 1 with 0.7; sample 3 (true 2) predicted 0 with 0.5.
        using var probabilities = tensor(new float[]
        {
            0.8f, 0.1f, 0.1f,
            0.2f, 0.7f, 0.1f,
            0.1f, 0.1f, 0.8f,
            0.5f, 0.2f, 0.3f,
        }, new long[] { 4, 3 });
        using var labels = tensor(new long[] { 0, 0, 2, 2 });
        var r = Evaluator.Summarize(probabilities, labels, Names, new[] { 1, 2 }, mistakeCount: 5);
        Assert.That(r.ConfusionMatrix, Is.EqualTo(new long[,] { { 1, 1, 0 }, { 0, 0, 0 }, { 1, 0, 1 } }));
        Assert.That(r.TopKAccuracy[1], Is.EqualTo(0.5));
        Assert.That(r.TopKAccuracy[2], Is.EqualTo(1.0), "sample 1's true class is second; sample 3's too (0.3 > 0.2)");
        Assert.That(r.Mistakes.Select(m => (m.Index, m.TrueClass, m.PredictedClass)), Is.EqualTo(new[] { (1L, 0, 1), (3L, 2, 0) }));
        Assert.That(r.Mistakes[0].Confidence, Is.EqualTo(0.7).Within(1e-6));
        double loss = -(Math.Log(0.8) + Math.Log(0.2) + Math.Log(0.8) + Math.Log(0.3)) / 4;
        Assert.That(r.Loss, Is.EqualTo(loss).Within(1e-5));
    }

    [Test]
    public void EvaluatesAModelAndFlipTtaAveragesMirroredPredictions()
    {
        using var data = TrainingTestKit.Bars(50);
        using var model = new TrainingTestKit.TinyNet();
        var plain = Evaluator.Evaluate(model, data, new EvaluatorOptions { BatchSize = 16, TopK = new[] { 1, 3 } });
        Assert.That(plain.Count, Is.EqualTo(50));
        Assert.That(plain.TopKAccuracy[3], Is.EqualTo(1.0), "top-3 of 3 classes is always right");
        long total = 0;
        foreach (var v in plain.ConfusionMatrix)
            total += v;
        Assert.That(total, Is.EqualTo(50));

        // TTA by hand: the mean of softmax(x) and softmax(flip(x)).
        var tta = Evaluator.Evaluate(model, data, new EvaluatorOptions { Tta = TestTimeAugmentation.HorizontalFlip });
        using var x = data.Images.to_type(ScalarType.Float32).div(255);
        using var noGrad = no_grad();
        using var p = model.forward(x).softmax(1).add(model.forward(x.flip(3)).softmax(1)).div(2);
        using var expected = p.argmax(1);
        using var labels = data.Labels;
        Assert.That(tta.Accuracy, Is.EqualTo(expected.eq(labels).sum().item<long>() / 50.0));
    }

    [Test]
    public void BadInputIsRejected()
    {
        Assert.Throws<ArgumentException>(() => new EvaluationResult(new long[2, 2], Names));
        using var data = TrainingTestKit.Bars(10);
        using var wrongClasses = new TrainingTestKit.TinyNet(classes: 4);
        Assert.That(Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(wrongClasses, data))!.ParamName, Is.EqualTo("model"));
        using var empty = data.Take(0);
        Assert.That(Assert.Throws<ArgumentException>(() => Evaluator.Evaluate(wrongClasses, empty))!.ParamName, Is.EqualTo("dataset"));
    }
}
