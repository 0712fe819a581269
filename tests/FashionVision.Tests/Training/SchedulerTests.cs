using FashionVision.Training;

namespace FashionVision.Tests.Training;

public class SchedulerTests
{
    [Test]
    public void WarmRestartsWithT0TenAndTMultTwoRestartAtTenAndThirty()
    {
        var s = new CosineAnnealingWarmRestarts(10, 2);
        var factors = Enumerable.Range(0, 71).Select(i => s.Factor(i)).ToArray();
        var restarts = Enumerable.Range(1, 70).Where(i => factors[i] > factors[i - 1]).ToArray();
        Assert.That(restarts, Is.EqualTo(new[] { 10, 30, 70 }));
        Assert.That(factors[10], Is.EqualTo(1.0));
        Assert.That(factors[30], Is.EqualTo(1.0));
        Assert.That(factors[5], Is.EqualTo(0.5).Within(1e-12), "half way through the first 10-step cycle");
        Assert.That(factors[20], Is.EqualTo(0.5).Within(1e-12), "half way through the 20-step second cycle");
        Assert.That(s.CyclePosition(29), Is.EqualTo((19L, 20L)));
    }

    [Test]
    public void CosineFollowsTheClosedForm()
    {
        var s = new CosineAnnealingLR(100, minFactor: 0.1);
        for (int t = 0; t <= 100; t += 7)
            Assert.That(s.Factor(t), Is.EqualTo(0.1 + 0.9 * 0.5 * (1 + Math.Cos(Math.PI * t / 100))).Within(1e-12));
        Assert.That(s.Factor(500), Is.EqualTo(0.1).Within(1e-12));
    }

    [Test]
    public void StepAndMultiStepDecayAtTheRightSteps()
    {
        var step = new StepLR(3, 0.5);
        Assert.That(Enumerable.Range(0, 8).Select(i => step.Factor(i)), Is.EqualTo(new[] { 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25 }));
        var multi = new MultiStepLR(new[] { 2, 5 }, 0.1);
        Assert.That(Enumerable.Range(0, 7).Select(i => multi.Factor(i)), Is.EqualTo(new[] { 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01 }).Within(1e-12));
    }

    [Test]
    public void OneCycleMatchesPyTorchsCurve()
    {
        // PyTorch OneCycleLR(max_lr=1, total_steps=10, pct_start=0.3, div_factor=25, final_div_factor=1e4, anneal='cos'):
        // initial 0.04, peak 1 at step 2 (= 0.3·10 − 1), final 4e-6 at step 9.
        var s = new OneCycleLR(10);
        Assert.That(s.Factor(0), Is.EqualTo(0.04).Within(1e-12));
        Assert.That(s.Factor(1), Is.EqualTo(1 + (0.04 - 1) / 2 * (Math.Cos(Math.PI * 0.5) + 1)).Within(1e-12));
        Assert.That(s.Factor(2), Is.EqualTo(1.0).Within(1e-12));
        Assert.That(s.Factor(9), Is.EqualTo(0.04 / 1e4).Within(1e-15));
        double pct = (5 - 2) / 7.0;
        Assert.That(s.Factor(5), Is.EqualTo(4e-6 + (1 - 4e-6) / 2 * (Math.Cos(Math.PI * pct) + 1)).Within(1e-12));
    }

    [Test]
    public void WarmupRampsLinearlyThenHandsOver()
    {
        var s = new LinearWarmup(new StepLR(2, 0.5), warmupSteps: 4, startFactor: 0.2);
        Assert.That(Enumerable.Range(0, 9).Select(i => s.Factor(i)), Is.EqualTo(new[] { 0.2, 0.4, 0.6, 0.8, 1, 1, 0.5, 0.5, 0.25 }).Within(1e-12));
    }

    [Test]
    public void ReduceOnPlateauWaitsForPatienceThenReduces()
    {
        var s = new ReduceLROnPlateau(reduceFactor: 0.5, patience: 2);
        foreach (var v in new[] { 1.0, 0.9, 0.95, 0.95 })
            s.ReportMetric(v);
        Assert.That(s.CurrentFactor, Is.EqualTo(1.0), "two bad checks are within patience");
        s.ReportMetric(0.95);
        Assert.That(s.CurrentFactor, Is.EqualTo(0.5));
        var restored = new ReduceLROnPlateau(reduceFactor: 0.5, patience: 2);
        restored.LoadState(s.GetState());
        Assert.That(restored.CurrentFactor, Is.EqualTo(0.5));
        Assert.That(restored.GetState(), Is.EqualTo(s.GetState()));
    }

    [Test]
    public void SchedulerSetsEveryParameterGroupInProportion()
    {
        using var model = nn.Sequential(("body", nn.Linear(2, 2)), ("head", nn.Linear(2, 2)));
        using var optimizer = OptimizerFactory.Create(model, new OptimizerOptions
        {
            Kind = OptimizerKind.Sgd,
            LearningRate = 0.1,
            LayerLearningRates = new[] { new LayerLearningRate("head.", 0.01) },
        });
        var scheduler = SchedulerFactory.Create(new SchedulerOptions { Kind = SchedulerKind.Step, StepSize = 1, Gamma = 0.5 }, 10);
        scheduler.Attach(optimizer);
        scheduler.Step();
        scheduler.Step();
        var lrs = optimizer.ParamGroups.Select(g => Math.Round(g.LearningRate, 12)).OrderBy(x => x).ToArray();
        Assert.That(lrs, Is.EqualTo(new[] { 0.0025, 0.0025, 0.025, 0.025 }));
    }

    [Test]
    public void FactoryNamesTheBadOption()
    {
        var e = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(new SchedulerOptions { Kind = SchedulerKind.CosineWarmRestarts, T0 = 0 }, 10));
        Assert.That(e!.ParamName, Is.EqualTo("options.T0"));
        e = Assert.Throws<ArgumentException>(() => SchedulerFactory.Create(new SchedulerOptions { Kind = SchedulerKind.MultiStep, Milestones = new[] { 5, 3 } }, 10));
        Assert.That(e!.ParamName, Is.EqualTo("options.Milestones"));
        Assert.That(SchedulerFactory.Create(new SchedulerOptions { Kind = SchedulerKind.OneCycle, WarmupSteps = 2 }, 10), Is.TypeOf<LinearWarmup>());
    }
}
