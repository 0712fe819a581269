using FashionVision.Training;

namespace FashionVision.Tests.Training;

public class OptimizerTests
{
    [Test]
    public void WeightDecayIsKeptOffNormalisationAndBiasParameters()
    {
        using var model = new TrainingTestKit.TinyNet();
        var groups = OptimizerFactory.BuildGroups(model, new OptimizerOptions { WeightDecay = 0.05 });
        var decayed = groups.Where(g => g.WeightDecay > 0).SelectMany(g => g.Names).ToArray();
        var notDecayed = groups.Where(g => g.WeightDecay == 0).SelectMany(g => g.Names).ToArray();
        Assert.That(decayed, Is.EquivalentTo(new[] { "conv.weight", "head.weight" }));
        Assert.That(notDecayed, Is.EquivalentTo(new[] { "conv.bias", "bn.weight", "bn.bias", "head.bias" }));
    }

    [Test]
    public void LayerLearningRatesGroupByPrefix()
    {
        using var model = new TrainingTestKit.TinyNet();
        var options = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1, WeightDecay = 0, LayerLearningRates = new[] { new LayerLearningRate("head.", 0.5) } };
        using var optimizer = OptimizerFactory.Create(model, options);
        var groups = OptimizerFactory.BuildGroups(model, options);
        Assert.That(groups.Single(g => g.LearningRate == 0.5).Names, Is.EquivalentTo(new[] { "head.weight", "head.bias" }));
        Assert.That(optimizer.ParamGroups.Select(g => g.LearningRate), Is.EquivalentTo(new[] { 0.1, 0.5 }));
    }

    [Test]
    public void SgdStepMatchesTheHandComputedUpdate()
    {
        // One parameter w = 1, loss = w² → grad 2. SGD with momentum 0.9: first step v = g, w = 1 − 0.1·2 = 0.8;
        // second: g = 1.6, v = 0.9·2 + 1.6 = 3.4, w = 0.8 − 0.34 = 0.46.
        using var model = nn.Linear(1, 1, hasBias: false);
        using (no_grad())
            model.weight!.fill_(1f);
        using var optimizer = OptimizerFactory.Create(model, new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0.9, WeightDecay = 0 });
        for (int i = 0; i < 2; i++)
        {
            optimizer.zero_grad();
            using var loss = model.weight!.pow(2).sum();
            loss.backward();
            optimizer.step();
        }
        Assert.That(model.weight!.item<float>(), Is.EqualTo(0.46f).Within(1e-6));
    }

    [Test]
    public void LookaheadPullsFastWeightsBackEveryKSteps()
    {
        // SGD lr 0.1 without momentum on loss = w (grad 1): fast steps subtract 0.1. With k = 2, α = 0.5:
        // after 2 steps fast = 0.8, slow = 1 + 0.5·(0.8 − 1) = 0.9 and the weight is reset to 0.9; after 4, fast = 0.7, slow = 0.8.
        using var model = nn.Linear(1, 1, hasBias: false);
        using (no_grad())
            model.weight!.fill_(1f);
        using var optimizer = OptimizerFactory.Create(model, new OptimizerOptions
        {
            Kind = OptimizerKind.Sgd, LearningRate = 0.1, Momentum = 0, WeightDecay = 0, Lookahead = new LookaheadOptions(2, 0.5),
        });
        Assert.That(optimizer, Is.TypeOf<Lookahead>());
        var seen = new List<float>();
        for (int i = 0; i < 4; i++)
        {
            optimizer.zero_grad();
            using var loss = model.weight!.sum();
            loss.backward();
            optimizer.step();
            seen.Add(model.weight!.item<float>());
        }
        Assert.That(seen, Is.EqualTo(new[] { 0.9f, 0.9f, 0.8f, 0.8f }).Within(1e-6));
    }

    [Test]
    public void BadOptionsNameTheOption()
    {
        using var model = nn.Linear(2, 2);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerFactory.Create(model, new OptimizerOptions { LearningRate = 0 }))!.ParamName, Is.EqualTo("LearningRate"));
        Assert.That(Assert.Throws<ArgumentException>(() => OptimizerFactory.Create(model, new OptimizerOptions { Kind = OptimizerKind.Sgd, Momentum = 0, Nesterov = true }))!.ParamName, Is.EqualTo("Nesterov"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerFactory.Create(model, new OptimizerOptions { Lookahead = new LookaheadOptions(0) }))!.ParamName, Is.EqualTo("Lookahead"));
    }
}
