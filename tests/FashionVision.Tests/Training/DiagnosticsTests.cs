using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;
using Linear = TorchSharp.Modules.Linear;
using ReLU = TorchSharp.Modules.ReLU;
using ReLU6 = TorchSharp.Modules.ReLU6;
using Sequential = TorchSharp.Modules.Sequential;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

/// <summary>The gradient-flow and dead-ReLU monitors: their numbers against independent computations, and hooks that reach every zoo model.</summary>
public class DiagnosticsTests
{
    /// <summary>Records every layer's gradient norm before each optimizer step, computed its own way (one flat vector per layer).</summary>
    private sealed class GradientRecorder : TrainerCallback
    {
        public List<Dictionary<string, double>> Steps { get; } = new();

        public override void OnBeforeOptimizerStep(Trainer trainer)
        {
            var norms = trainer.Model.named_parameters()
                .GroupBy(p => p.name.Contains('.') ? p.name[..p.name.LastIndexOf('.')] : p.name)
                .ToDictionary(g => g.Key, g =>
                {
                    using var flat = cat(g.Select(p => p.parameter.grad!.flatten()).ToArray());
                    return Math.Sqrt(flat.square().sum().item<float>());
                });
            Steps.Add(norms);
        }
    }

    [Test]
    public void GradientFlowAveragesEachLayersGradientNormOverTheMeasuredSteps()
    {
        using var train = Bars(96, seed: 3);
        using var model = new TinyNet(seed: 2);
        var monitor = new GradientFlowMonitor(interval: 2);
        var recorder = new GradientRecorder();
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 1, Callbacks = [monitor, recorder] });
        trainer.Fit(train);

        // 6 steps per epoch, measured at steps 1, 3, 5 of each epoch.
        Assert.That(monitor.History.Select(e => (e.Epoch, e.Steps)), Is.EqualTo(new[] { (1, 3), (2, 3) }));
        Assert.That(monitor.History[0].Layers.Select(l => l.Layer), Is.EqualTo(new[] { "conv", "bn", "head" }));
        for (int epoch = 0; epoch < 2; epoch++)
        {
            var measured = new[] { 0, 2, 4 }.Select(i => recorder.Steps[6 * epoch + i]).ToArray();
            foreach (var layer in monitor.History[epoch].Layers)
            {
                Assert.That(layer.MeanNorm, Is.EqualTo(measured.Average(s => s[layer.Layer])).Within(1e-3).Percent, layer.Layer);
                Assert.That(layer.MaxNorm, Is.EqualTo(measured.Max(s => s[layer.Layer])).Within(1e-3).Percent, layer.Layer);
            }
        }
        Assert.That(GradientFlowMonitor.LayerOf("layer1.0.conv1.weight"), Is.EqualTo("layer1.0.conv1"));
        Assert.That(GradientFlowMonitor.LayerOf("position"), Is.EqualTo("position"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientFlowMonitor(0));
    }

    private sealed class CancelAfter(int epoch, CancellationTokenSource cts) : TrainerCallback
    {
        public override void OnEpochEnd(Trainer trainer, EpochMetrics metrics)
        {
            if (metrics.Epoch == epoch)
                cts.Cancel();
        }
    }

    [Test]
    public void AResumedRunContinuesTheHistory()
    {
        string dir = TempDirectory();
        try
        {
            using var train = Bars(64, seed: 5);
            TrainerOptions Options(GradientFlowMonitor monitor, params TrainerCallback[] more) =>
                new() { Epochs = 3, BatchSize = 16, Seed = 1, CheckpointDirectory = dir, Callbacks = [monitor, .. more] };
            using var cts = new CancellationTokenSource();
            var first = new GradientFlowMonitor(interval: 1);
            using (var model = new TinyNet(seed: 1))
            using (var trainer = new Trainer(model, Options(first, new CancelAfter(2, cts))))
                Assert.Throws<OperationCanceledException>(() => trainer.Fit(train, cancellationToken: cts.Token));
            Assert.That(first.History.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2 }));

            var resumed = new GradientFlowMonitor(interval: 1);
            using var resumedModel = new TinyNet(seed: 1);
            using var resumedTrainer = new Trainer(resumedModel, Options(resumed) with { ResumeFrom = Path.Combine(dir, "last.ckpt") });
            resumedTrainer.Fit(train);
            Assert.That(resumed.History.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(resumed.History[1], Is.EqualTo(first.History[1]).Using<GradientFlowEpoch>((a, b) =>
                a.Epoch == b.Epoch && a.Layers.SequenceEqual(b.Layers)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A conv of 4 channels whose channels 0 and 1 can never fire (bias −1000 on inputs in about [−3, 3]), an in-place ReLU in a
    /// Sequential run through <c>forward</c> (the hook must still fire), and one ReLU module used twice.
    /// </summary>
    private sealed class HalfDeadNet : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential block;
        private readonly Linear hidden;
        private readonly ReLU relu;
        private readonly Linear head;

        public HalfDeadNet() : base("HalfDeadNet")
        {
            manual_seed(1);
            var conv = nn.Conv2d(1, 4, 3, padding: 1);
            using (no_grad())
            {
                conv.bias![0] = -1000f;
                conv.bias[1] = -1000f;
            }
            block = nn.Sequential(conv, nn.ReLU(inplace: true));
            hidden = nn.Linear(4, 6);
            relu = nn.ReLU();
            head = nn.Linear(6, 3);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = block.forward(input).mean(new long[] { 2, 3 });
            x = relu.call(hidden.call(relu.call(x - 100)));   // every x − 100 < 0: the first call of relu is all zeros
            return scope.MoveToOuter(head.call(x));
        }
    }

    [Test]
    public void DeadReluCountsUnitsThatNeverFireAtEverySite()
    {
        using var train = Bars(64, seed: 4);
        using var model = new HalfDeadNet();
        var monitor = new DeadReluMonitor(interval: 1);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 1, BatchSize = 16, Seed = 2, Normalize = false,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd, LearningRate = 1e-6, WeightDecay = 0 },
            Callbacks = [monitor],
        });
        trainer.Fit(train);

        var epoch = monitor.History.Single();
        Assert.That(epoch.Batches, Is.EqualTo(4));
        Assert.That(epoch.Sites.Select(s => s.Site), Is.EqualTo(new[] { "block.1", "relu", "relu#2" }));
        var block = epoch.Sites[0];
        Assert.That((block.Units, block.DeadUnits), Is.EqualTo((4L, 2L)), "channels 0 and 1 never fire");
        Assert.That(block.ZeroFraction, Is.GreaterThanOrEqualTo(0.5));
        Assert.That((epoch.Sites[1].Units, epoch.Sites[1].DeadUnits, epoch.Sites[1].ZeroFraction), Is.EqualTo((4L, 4L, 1.0)));
        Assert.That(epoch.Sites[2].Units, Is.EqualTo(6));
        Assert.That(epoch.DeadUnits, Is.EqualTo(2 + 4 + epoch.Sites[2].DeadUnits));
        Assert.That(monitor.HookedModules, Is.Zero, "the hooks are removed when the run ends");

        // Validation passes and plain forward calls outside training batches are not measured.
        model.call(rand(2, 1, 8, 8));
        Assert.That(monitor.History.Single().Batches, Is.EqualTo(4));
    }

    private static IEnumerable<string> ZooModelsWithRelu() => ModelZoo.Names.Where(n => ModelZoo.Contains(n) && n != "small-vit" && !n.StartsWith("user-net-") && !n.StartsWith("liar-"));

    [TestCaseSource(nameof(ZooModelsWithRelu))]
    public void DeadReluMonitorSeesEveryReluOfEveryZooModel(string name)
    {
        // The hooks fire only through Module.call: this checks that every zoo model runs each of its ReLU modules that way.
        var options = ModelZoo.DefaultOptions(name) with { Seed = 1, Width = name == "lenet5" ? null : name.StartsWith("wrn-") ? 1 : 0.25 };
        using var model = ModelZoo.Create(name, options);
        int size = name == "resnet18-imagenet" ? 64 : 28;
        using var images = randint(0, 256, new long[] { 4, model.InputChannels, size, size }, dtype: ScalarType.Byte, generator: new Generator(1));
        using var labels = tensor(new long[] { 0, 1, 2, 3 });
        using var data = new InMemoryDataset(images.clone(), labels.clone(), Enumerable.Range(0, model.NumClasses).Select(i => $"c{i}").ToArray(), "random");
        var monitor = new DeadReluMonitor(interval: 1);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 4, Callbacks = [monitor] });
        trainer.Fit(data);

        var reluModules = model.named_modules().Where(m => m.module is ReLU or ReLU6).Select(m => m.name).ToArray();
        Assert.That(reluModules, Is.Not.Empty);
        var sites = monitor.History.Single().Sites.Select(s => s.Site.Split('#')[0]).Distinct().ToArray();
        Assert.That(sites, Is.EquivalentTo(reluModules));
    }
}
