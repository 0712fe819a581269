using FashionVision.Models;
using FashionVision.Training;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

/// <summary>Center loss and ArcFace: values computed by hand, the center update rule, and both trained through the Trainer.</summary>
public class MetricLearningLossTests
{
    [Test]
    public void ArcFaceMatchesHandComputation()
    {
        // s = 4, m = 0.5. Sample 1: cosines (0.6, 0.8, 0), true class 0: cos(θ + m) = 0.6·cos 0.5 − 0.8·sin 0.5 = 0.143009,
        // margin logits (0.572036, 3.2, 0), cross-entropy 2.735012. Sample 2: cosines (−0.95, 0.3, 0.1), true class 0:
        // cos θ = −0.95 < cos(π − m) = −0.877583, so the fallback cos θ − m·sin(π − m) = −1.189713 applies: logits
        // (−4.758851, 1.2, 0.4), cross-entropy 6.331732. Mean 4.533372.
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 0.6f, 0.8f, 0f, -0.95f, 0.3f, 0.1f }, new long[] { 2, 3 }) * 4;
        var targets = tensor(new long[] { 0, 0 });
        var loss = new ArcFaceLoss(margin: 0.5, scale: 4).Forward(logits, targets);
        Assert.That(loss.item<float>(), Is.EqualTo(4.533372).Within(1e-5));

        // Without a margin it is the cross-entropy of the cosine logits (2.4, 3.2, 0) and (−3.8, 1.2, 0.4): mean 3.287288.
        Assert.That(new ArcFaceLoss(margin: 0, scale: 4).Forward(logits, targets).item<float>(), Is.EqualTo(3.287288).Within(1e-5));
    }

    [Test]
    public void ArcFaceNeedsClassIndicesAndTheScale()
    {
        using var scope = NewDisposeScope();
        var logits = zeros(2, 3);
        Assert.That(Assert.Throws<ArgumentException>(() => new ArcFaceLoss(scale: 4).Forward(logits, full(2, 3, 1f / 3)))!.ParamName, Is.EqualTo("targets"));
        Assert.Throws<InvalidOperationException>(() => new ArcFaceLoss().Forward(logits, tensor(new long[] { 0, 1 })));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ArcFaceLoss(margin: 2));
        Assert.That(LossFactory.Create(new LossOptions { Kind = LossKind.ArcFace, ArcFaceMargin = 0.2 }).Describe(), Is.EqualTo("ArcFace(margin=0.2)"));
        var e = Assert.Throws<ArgumentException>(() => LossFactory.Create(new LossOptions { Kind = LossKind.ArcFace, ArcFaceMargin = -1 }))!;
        Assert.That(e.ParamName, Is.EqualTo("options.ArcFaceMargin"));
    }

    [Test]
    public void CenterLossMatchesHandComputationAndMovesTheCentersByThePapersRule()
    {
        // Embeddings (1, 2), (3, 4), (−1, 0) of classes 0, 0, 1; λ = 0.1, α = 0.5; the centers start at zero.
        using var scope = NewDisposeScope();
        var embeddings = tensor(new float[] { 1, 2, 3, 4, -1, 0 }, new long[] { 3, 2 }).requires_grad_();
        var targets = tensor(new long[] { 0, 0, 1 });
        var logits = tensor(new float[] { 1, 0, 0, 2, 0.5f, 0.5f }, new long[] { 3, 2 });
        var crossEntropy = nn.functional.cross_entropy(logits, targets).item<float>();
        var loss = new CenterLoss(new CrossEntropyLoss(), weight: 0.1, centerLearningRate: 0.5);

        // First call: ½·mean(‖x‖²) = ½·(5 + 25 + 1)/3 = 5.166667.
        Assert.That(loss.Forward(logits, embeddings, targets).item<float>(), Is.EqualTo(crossEntropy + 0.1 * 31.0 / 6).Within(1e-5));
        // Update: class 0 has n = 2, Δc0 = (2·0 − (4, 6)) / 3, c0 = −0.5·Δc0 = (2/3, 1); class 1: Δc1 = (0 − (−1, 0)) / 2, c1 = (−0.25, 0).
        Assert.That(loss.Centers!.data<float>().ToArray(), Is.EqualTo(new[] { 2f / 3, 1f, -0.25f, 0f }).Within(1e-6));
        // Second call: ½·mean(‖(1/3, 1)‖², ‖(7/3, 3)‖², ‖(−0.75, 0)‖²) = ½·(10/9 + 130/9 + 0.5625)/3 = 2.686343.
        Assert.That(loss.Forward(logits, embeddings, targets).item<float>(), Is.EqualTo(crossEntropy + 0.1 * 2.686343).Within(1e-5));
    }

    [Test]
    public void CenterLossGradientReachesOnlyTheEmbeddings()
    {
        using var scope = NewDisposeScope();
        var embeddings = tensor(new float[] { 1, 2, 3, 4 }, new long[] { 2, 2 }).requires_grad_();
        var targets = tensor(new long[] { 0, 1 });
        var loss = new CenterLoss(new CrossEntropyLoss(), weight: 1);
        // Centers are zero on the first call, so the center term's gradient is x / N (the logits carry no gradient here).
        loss.Forward(zeros(2, 2), embeddings, targets).backward();
        Assert.That(embeddings.grad!.data<float>().ToArray(), Is.EqualTo(new[] { 0.5f, 1f, 1.5f, 2f }).Within(1e-6));
        Assert.That(loss.Centers!.requires_grad, Is.False);

        // Evaluation (no gradients) leaves the centers alone.
        var before = loss.Centers!;
        using (no_grad())
            loss.Forward(zeros(2, 2), embeddings, targets);
        Assert.That(loss.Centers!.data<float>().ToArray(), Is.EqualTo(before.data<float>().ToArray()));
    }

    [Test]
    public void CenterLossWeightsSoftTargetsOverTheClasses()
    {
        // Centers after one hard update on (2, 0) of class 0 and (0, 4) of class 1 with α = 1: c0 = (1, 0), c1 = (0, 2).
        using var scope = NewDisposeScope();
        var loss = new CenterLoss(new CrossEntropyLoss(), weight: 1, centerLearningRate: 1);
        loss.Forward(zeros(2, 2), tensor(new float[] { 2, 0, 0, 4 }, new long[] { 2, 2 }).requires_grad_(), tensor(new long[] { 0, 1 }));
        Assert.That(loss.Centers!.data<float>().ToArray(), Is.EqualTo(new[] { 1f, 0f, 0f, 2f }).Within(1e-6));
        // x = (1, 1), t = (0.25, 0.75): Σ tₖ·½‖x − cₖ‖² = 0.25·½·1 + 0.75·½·(1 + 1) = 0.875.
        var term = loss.CenterTerm(tensor(new float[] { 1, 1 }, new long[] { 1, 2 }), tensor(new float[] { 0.25f, 0.75f }, new long[] { 1, 2 }), 2);
        Assert.That(term.item<float>(), Is.EqualTo(0.875).Within(1e-6));
        Assert.Throws<InvalidOperationException>(() => loss.Forward(zeros(1, 2), tensor(new long[] { 0 })));
    }

    private static ImageClassifier SmallModel(HeadKind head = HeadKind.Linear) =>
        ModelZoo.Create("small-cnn", new ModelOptions { NumClasses = 3, Width = 0.25, DropRate = 0, Seed = 5, Head = head });

    private static TrainerOptions Options(LossKind kind, string? checkpoints = null) => new()
    {
        Epochs = 4,
        BatchSize = 16,
        Seed = 3,
        Optimizer = new OptimizerOptions { LearningRate = 0.01 },
        Loss = new LossOptions { Kind = kind, CenterLossWeight = 0.05, ArcFaceMargin = 0.2 },
        CheckpointDirectory = checkpoints,
    };

    [Test]
    public void ArcFaceTrainsACosineHeadThroughTheTrainer()
    {
        using var train = Bars(192, seed: 1);
        using var model = SmallModel(HeadKind.Cosine);
        using var trainer = new Trainer(model, Options(LossKind.ArcFace));
        var history = trainer.Fit(train);
        Assert.That(((ArcFaceLoss)trainer.Loss).Scale, Is.EqualTo(ImageClassifier.DefaultCosineScale), "the loss took the head's scale");
        Assert.That(history.Last!.TrainAccuracy, Is.GreaterThan(0.9));
        Assert.That(history.Epochs[^1].TrainLoss, Is.LessThan(history.Epochs[0].TrainLoss));

        using var linear = SmallModel();
        using var wrong = new Trainer(linear, Options(LossKind.ArcFace));
        Assert.That(Assert.Throws<ArgumentException>(() => wrong.Fit(train))!.Message, Does.Contain("HeadKind.Cosine"));
    }

    [Test]
    public void CenterLossTrainsAndResumesWithItsCenters()
    {
        string dir = TempDirectory();
        try
        {
            using var train = Bars(128, seed: 2);
            using var reference = SmallModel();
            using var referenceTrainer = new Trainer(reference, Options(LossKind.Center, Path.Combine(dir, "reference")));
            var history = referenceTrainer.Fit(train);
            Assert.That(history.Last!.TrainAccuracy, Is.GreaterThan(0.9));
            var centers = ((CenterLoss)referenceTrainer.Loss).Centers!;
            Assert.That(centers.shape, Is.EqualTo(new long[] { 3, reference.Classifier.in_features }));
            Assert.That(centers.abs().sum().item<float>(), Is.GreaterThan(0f));

            // Stop after epoch 2, resume into a differently initialised model: weights and centers end exactly as uninterrupted.
            using var interrupted = SmallModel();
            using var cts = new CancellationTokenSource();
            var stopAfterTwo = new StopAfter(2, cts);
            using (var trainer = new Trainer(interrupted, Options(LossKind.Center, Path.Combine(dir, "run")) with { Callbacks = [stopAfterTwo] }))
                Assert.Throws<OperationCanceledException>(() => trainer.Fit(train, cancellationToken: cts.Token));
            using var resumedModel = ModelZoo.Create("small-cnn", new ModelOptions { NumClasses = 3, Width = 0.25, DropRate = 0, Seed = 77 });
            using var resumed = new Trainer(resumedModel, Options(LossKind.Center) with { ResumeFrom = Path.Combine(dir, "run", "last.ckpt") });
            resumed.Fit(train);
            Assert.That(Weights(resumedModel), Is.EqualTo(Weights(reference)));
            Assert.That(((CenterLoss)resumed.Loss).Centers!.data<float>().ToArray(), Is.EqualTo(centers.data<float>().ToArray()));

            using var tiny = new TinyNet();
            using var notAClassifier = new Trainer(tiny, Options(LossKind.Center));
            Assert.That(Assert.Throws<ArgumentException>(() => notAClassifier.Fit(train))!.Message, Does.Contain("ImageClassifier"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed class StopAfter(int epoch, CancellationTokenSource cts) : TrainerCallback
    {
        public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
        {
            if (metrics.Epoch == epoch)
                cts.Cancel();
        }
    }
}
