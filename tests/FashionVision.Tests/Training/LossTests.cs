using FashionVision.Training;

namespace FashionVision.Tests.Training;

public class LossTests
{
    // logits for two samples over three classes, and their softmax computed by hand below.
    private static readonly float[,] Logits = { { 2f, 1f, 0f }, { 0f, 0f, 3f } };

    private static double[] Softmax(int row)
    {
        var e = Enumerable.Range(0, 3).Select(j => Math.Exp(Logits[row, j])).ToArray();
        double s = e.Sum();
        return e.Select(x => x / s).ToArray();
    }

    private static Tensor LogitsTensor() => tensor(new float[] { 2, 1, 0, 0, 0, 3 }, new long[] { 2, 3 });

    private static double Value(ClassificationLoss loss, Tensor targets)
    {
        using var logits = LogitsTensor();
        using var l = loss.Forward(logits, targets);
        return l.item<float>();
    }

    [Test]
    public void CrossEntropyHardTargetsMatchesHandComputation()
    {
        using var targets = tensor(new long[] { 0, 1 });
        double expected = -(Math.Log(Softmax(0)[0]) + Math.Log(Softmax(1)[1])) / 2;
        Assert.That(Value(new CrossEntropyLoss(), targets), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void CrossEntropyClassWeightsUseTheWeightedMean()
    {
        using var targets = tensor(new long[] { 0, 1 });
        var w = new float[] { 2f, 0.5f, 1f };
        double expected = (-2 * Math.Log(Softmax(0)[0]) - 0.5 * Math.Log(Softmax(1)[1])) / 2.5;
        Assert.That(Value(new CrossEntropyLoss(classWeights: w), targets), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void LabelSmoothingMatchesHandComputationForHardAndEquivalentSoftTargets()
    {
        const double eps = 0.1;
        double expected = 0;
        int[] y = { 0, 1 };
        for (int i = 0; i < 2; i++)
        {
            var p = Softmax(i);
            for (int j = 0; j < 3; j++)
                expected -= ((j == y[i] ? 1 - eps : 0) + eps / 3) * Math.Log(p[j]);
        }
        expected /= 2;
        using var hard = tensor(new long[] { 0, 1 });
        using var soft = tensor(new float[] { 1, 0, 0, 0, 1, 0 }, new long[] { 2, 3 });
        var loss = new CrossEntropyLoss(labelSmoothing: eps);
        Assert.That(Value(loss, hard), Is.EqualTo(expected).Within(1e-5));
        Assert.That(Value(loss, soft), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void SoftTargetCrossEntropyMatchesHandComputation()
    {
        using var soft = tensor(new float[] { 0.7f, 0.3f, 0f, 0f, 0.5f, 0.5f }, new long[] { 2, 3 });
        double expected = -(0.7 * Math.Log(Softmax(0)[0]) + 0.3 * Math.Log(Softmax(0)[1]) + 0.5 * Math.Log(Softmax(1)[1]) + 0.5 * Math.Log(Softmax(1)[2])) / 2;
        Assert.That(Value(new SoftTargetCrossEntropyLoss(), soft), Is.EqualTo(expected).Within(1e-5));
        Assert.That(Value(new CrossEntropyLoss(), soft), Is.EqualTo(expected).Within(1e-5), "cross-entropy accepts soft targets too");
    }

    [Test]
    public void FocalLossMatchesHandComputationAndReducesToCrossEntropy()
    {
        using var targets = tensor(new long[] { 0, 1 });
        double p0 = Softmax(0)[0], p1 = Softmax(1)[1];
        double expected = 0.25 * -(Math.Pow(1 - p0, 2) * Math.Log(p0) + Math.Pow(1 - p1, 2) * Math.Log(p1)) / 2;
        Assert.That(Value(new FocalLoss(gamma: 2, alpha: 0.25), targets), Is.EqualTo(expected).Within(1e-6));
        Assert.That(Value(new FocalLoss(gamma: 0, alpha: 1), targets), Is.EqualTo(Value(new CrossEntropyLoss(), targets)).Within(1e-6));
    }

    [Test]
    public void DistillationMatchesHandComputation()
    {
        const double T = 2, alpha = 0.7;
        float[] teacherValues = { 1, 2, 0, 0.5f, 0, 1 };
        using var teacher = tensor(teacherValues, new long[] { 2, 3 });
        using var targets = tensor(new long[] { 0, 1 });
        double kl = 0;
        for (int i = 0; i < 2; i++)
        {
            var s = Enumerable.Range(0, 3).Select(j => Math.Exp(Logits[i, j] / T)).ToArray();
            var t = Enumerable.Range(0, 3).Select(j => Math.Exp(teacherValues[i * 3 + j] / T)).ToArray();
            double ss = s.Sum(), ts = t.Sum();
            for (int j = 0; j < 3; j++)
                kl += t[j] / ts * Math.Log((t[j] / ts) / (s[j] / ss));
        }
        kl /= 2;
        double ce = -(Math.Log(Softmax(0)[0]) + Math.Log(Softmax(1)[1])) / 2;
        double expected = alpha * T * T * kl + (1 - alpha) * ce;
        var loss = new DistillationLoss(new CrossEntropyLoss(), T, alpha);
        using var logits = LogitsTensor();
        using var value = loss.Forward(logits, targets, teacher);
        Assert.That(value.item<float>(), Is.EqualTo(expected).Within(1e-5));
        Assert.Throws<InvalidOperationException>(() => loss.Forward(logits, targets));
    }

    [Test]
    public void DistillationGradientMatchesHandComputation()
    {
        // ∂L/∂z_ij = (1/N)·[α·T·(softmax(z_i/T)_j − softmax(t_i/T)_j) + (1 − α)·(softmax(z_i)_j − [j = y_i])]: the T² factor
        // cancels one 1/T of the softened softmax, which is why Hinton et al. scale the soft term by T².
        const double T = 3, alpha = 0.6;
        float[] teacherValues = { 0.5f, 2, -1, 1, 1, 0 };
        long[] labels = { 0, 2 };
        using var logits = LogitsTensor().requires_grad_(true);
        using var teacher = tensor(teacherValues, new long[] { 2, 3 }).requires_grad_(true);
        using var targets = tensor(labels);
        using (var loss = new DistillationLoss(new CrossEntropyLoss(), T, alpha).Forward(logits, targets, teacher))
            loss.backward();

        double[] SoftmaxOf(Func<int, double> value, double temperature)
        {
            var e = Enumerable.Range(0, 3).Select(j => Math.Exp(value(j) / temperature)).ToArray();
            return e.Select(x => x / e.Sum()).ToArray();
        }
        var expected = new double[6];
        for (int i = 0; i < 2; i++)
        {
            var student = SoftmaxOf(j => Logits[i, j], T);
            var soft = SoftmaxOf(j => teacherValues[i * 3 + j], T);
            var hard = SoftmaxOf(j => Logits[i, j], 1);
            for (int j = 0; j < 3; j++)
                expected[i * 3 + j] = (alpha * T * (student[j] - soft[j]) + (1 - alpha) * (hard[j] - (j == labels[i] ? 1 : 0))) / 2;
        }
        using var gradient = logits.grad!;
        Assert.That(gradient.data<float>().ToArray().Select(g => (double)g), Is.EqualTo(expected).Within(1e-6));
        Assert.That(teacher.grad, Is.Null, "no gradient flows into the teacher");
    }

    [Test]
    public void LossesProduceGradients()
    {
        using var logits = LogitsTensor().requires_grad_(true);
        using var targets = tensor(new long[] { 2, 0 });
        using var loss = new FocalLoss().Forward(logits, targets);
        loss.backward();
        using var grad = logits.grad!;
        Assert.That(grad.abs().sum().item<float>(), Is.GreaterThan(0));
    }

    [Test]
    public void BadTargetsAndOptionsAreRejectedByName()
    {
        using var logits = LogitsTensor();
        using var wrongDtype = tensor(new int[] { 0, 1 });
        using var wrongCount = tensor(new long[] { 0, 1, 2 });
        using var wrongSoft = zeros(2, 4);
        var ce = new CrossEntropyLoss();
        Assert.That(Assert.Throws<ArgumentException>(() => ce.Forward(logits, wrongDtype))!.ParamName, Is.EqualTo("targets"));
        Assert.That(Assert.Throws<ArgumentException>(() => ce.Forward(logits, wrongCount))!.ParamName, Is.EqualTo("targets"));
        Assert.That(Assert.Throws<ArgumentException>(() => ce.Forward(logits, wrongSoft))!.ParamName, Is.EqualTo("targets"));
        Assert.That(Assert.Throws<ArgumentException>(() => LossFactory.Create(new LossOptions { LabelSmoothing = 1.0 }))!.ParamName, Is.EqualTo("options.LabelSmoothing"));
        Assert.That(Assert.Throws<ArgumentException>(() => LossFactory.Create(new LossOptions { Kind = LossKind.Focal, FocalGamma = -1 }))!.ParamName, Is.EqualTo("options.FocalGamma"));
        Assert.That(Assert.Throws<ArgumentException>(() => LossFactory.Create(new LossOptions { Kind = LossKind.Distillation, DistillationAlpha = 2 }))!.ParamName, Is.EqualTo("options.DistillationAlpha"));
        Assert.That(Assert.Throws<ArgumentException>(() => LossFactory.Create(new LossOptions { ClassWeights = new[] { 1f, -1f } }))!.ParamName, Is.EqualTo("options.ClassWeights"));
    }

    [Test]
    public void FactoryBuildsTheRequestedKinds()
    {
        Assert.That(LossFactory.Create(), Is.TypeOf<CrossEntropyLoss>());
        Assert.That(LossFactory.Create(new LossOptions { Kind = LossKind.Focal, FocalGamma = 1.5 }), Is.TypeOf<FocalLoss>().And.Property(nameof(FocalLoss.Gamma)).EqualTo(1.5));
        Assert.That(LossFactory.Create(new LossOptions { Kind = LossKind.SoftTargetCrossEntropy }), Is.TypeOf<SoftTargetCrossEntropyLoss>());
        var d = (DistillationLoss)LossFactory.Create(new LossOptions { Kind = LossKind.Distillation, LabelSmoothing = 0.1 });
        Assert.That(((CrossEntropyLoss)d.StudentLoss).LabelSmoothing, Is.EqualTo(0.1));
    }
}
