using FashionVision.Models;
using FashionVision.Models.Pruning;
using TorchSharp.Modules;

namespace FashionVision.Tests.Models;

/// <summary>
/// Structured channel pruning: the pruned models' shapes, parameter and FLOP counts against counts derived by hand, the
/// function they compute, the ranking, the zoo and checkpoint round trip through <see cref="ModelOptions.ChannelWidths"/>,
/// and the errors.
/// </summary>
public class PruningTests
{
    private static long Parameters(nn.Module model) => model.parameters().Sum(p => p.numel());

    [Test]
    public void FastCnnHalvedHasTheHandCountedShapesParametersAndFlops()
    {
        using var model = ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { Seed = 1 });
        var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.5 });
        using var pruned = result.Model;

        // w = 24: stem 24 → 12, stage 1 48 → 24, stage 2 96 → 48.
        Assert.That(result.ChannelWidths, Is.EqualTo(new[] { 12, 24, 48 }));
        Assert.That(result.Groups.Select(g => (g.Name, g.WidthBefore, g.WidthAfter)),
            Is.EqualTo(new[] { ("stem", 24, 12), ("stage1", 48, 24), ("stage2", 96, 48) }));
        var shapes = pruned.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        Assert.That(shapes["stem.0.weight"], Is.EqualTo(new long[] { 12, 1, 3, 3 }));
        Assert.That(shapes["stem.2.running_var"], Is.EqualTo(new long[] { 12 }));
        Assert.That(shapes["widen1.0.weight"], Is.EqualTo(new long[] { 24, 12, 3, 3 }));
        Assert.That(shapes["res1.0.weight"], Is.EqualTo(new long[] { 24, 24, 3, 3 }));
        Assert.That(shapes["widen2.1.0.weight"], Is.EqualTo(new long[] { 48, 24, 3, 3 }));
        Assert.That(shapes["res2.1.weight"], Is.EqualTo(new long[] { 48 }));
        Assert.That(shapes["head.weight"], Is.EqualTo(new long[] { 10, 96 }));

        // stem 1·12·9 = 108 + BN 24; widen1 12·24·9 = 2,592 + 48; res1 24·24·9 = 5,184 + 48; widen2 24·48·9 = 10,368 + 96;
        // res2 48·48·9 = 20,736 + 96; head 96·10 + 10 = 970 → 40,270 (from 158,290).
        Assert.That(result.ParametersBefore, Is.EqualTo(158_290));
        Assert.That(result.ParametersAfter, Is.EqualTo(40_270));
        Assert.That(Parameters(pruned), Is.EqualTo(40_270));

        // Multiply-adds: stem 28·28·12·9 = 84,672; widen1 14·14·24·12·9 = 508,032; res1 14·14·24·24·9 = 1,016,064;
        // widen2 7·7·48·24·9 = 508,032; res2 7·7·48·48·9 = 1,016,064; head 96·10 = 960 → 3,133,824.
        Assert.That(FlopCounter.CountMultiplyAdds(pruned, 1, 28, 28), Is.EqualTo(3_133_824));
        Assert.That(ModelZoo.Describe(ModelZoo.FastCnnName, new ModelOptions { ChannelWidths = [12, 24, 48] }).FlopsPerImage, Is.EqualTo(2 * 3_133_824));
    }

    [Test]
    public void FractionsRoundPerGroup()
    {
        // 24 · 0.8 = 19.2 → 19, 48 · 0.8 = 38.4 → 38, 96 · 0.8 = 76.8 → 77; the head reads avg and max of 77 channels.
        using var model = ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { Seed = 1 });
        var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.8 });
        using var pruned = result.Model;
        Assert.That(result.ChannelWidths, Is.EqualTo(new[] { 19, 38, 77 }));
        Assert.That(pruned.Classifier.weight!.shape, Is.EqualTo(new long[] { 10, 154 }));
        Assert.That(ChannelPruner.KeptWidth(3, 0.1), Is.EqualTo(1), "a group keeps at least one channel");
        Assert.That(ChannelPruner.KeptWidth(5, 0.5), Is.EqualTo(3), "halves round away from zero");
    }

    [Test]
    public void ResNet18HalvedIsTheHalfWidthResNet()
    {
        using var model = ModelZoo.Create("resnet18", new ModelOptions { Width = 0.25, Seed = 2 });
        var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.5 });
        using var pruned = result.Model;

        // Stage widths 16-32-64-128 → 8-16-32-64; every block's inner width halves with them.
        Assert.That(result.ChannelWidths, Is.EqualTo(new[] { 8, 16, 32, 64, 8, 8, 16, 16, 32, 32, 64, 64 }));
        Assert.That(result.Groups.Select(g => g.Name).Take(6), Is.EqualTo(new[] { "stage1", "stage2", "stage3", "stage4", "layer1.0", "layer1.1" }));
        var shapes = pruned.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);
        Assert.That(shapes["conv1.weight"], Is.EqualTo(new long[] { 8, 1, 3, 3 }));
        Assert.That(shapes["layer2.0.conv1.weight"], Is.EqualTo(new long[] { 16, 8, 3, 3 }));
        Assert.That(shapes["layer2.0.downsample.0.weight"], Is.EqualTo(new long[] { 16, 8, 1, 1 }));
        Assert.That(shapes["layer4.1.bn2.running_mean"], Is.EqualTo(new long[] { 64 }));
        Assert.That(shapes["fc.weight"], Is.EqualTo(new long[] { 10, 64 }));

        // stem 72 + 16; layer1 2 × (576 + 16 + 576 + 16) = 2,368; layer2 (1,152 + 32 + 2,304 + 32 + 128 + 32) + (2,304 + 32) × 2
        // = 8,352; layer3 (4,608 + 64 + 9,216 + 64 + 512 + 64) + (9,216 + 64) × 2 = 33,088; layer4 (18,432 + 128 + 36,864 + 128
        // + 2,048 + 128) + (36,864 + 128) × 2 = 131,712; fc 64·10 + 10 = 650 → 176,258.
        Assert.That(result.ParametersAfter, Is.EqualTo(176_258));
        using var eighth = ModelZoo.Create("resnet18", new ModelOptions { Width = 0.125 });
        Assert.That(Parameters(eighth), Is.EqualTo(176_258), "the same architecture as the zoo's width 0.125");
    }

    [TestCase("fast-cnn", 1.0 / 3)]
    [TestCase("resnet18", 0.125)]
    public void RemovingChannelsThatAreZeroLeavesTheOutputsUnchanged(string name, double width)
    {
        // Zero the BatchNorm scale and shift of every odd channel of every group: those channels are 0 everywhere, so removing
        // them (they rank last by BatchNorm scale) must give exactly the original function — which checks that every producer
        // and consumer, the residual ties and the head's avg+max columns are sliced consistently.
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(name, new ModelOptions { Width = width, Seed = 3 });
        RandomizeBatchNorm(model);
        var prunable = (IChannelPrunable)model;
        var state = model.state_dict();
        using (no_grad())
        {
            foreach (var group in prunable.ChannelGroups())
            {
                var odd = arange(1, group.Width, 2);
                foreach (var producer in group.Producers)
                {
                    state[producer.BatchNorm + ".weight"].index_fill_(0, odd, 0);
                    state[producer.BatchNorm + ".bias"].index_fill_(0, odd, 0);
                }
            }
        }
        model.eval();
        var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.5, Importance = FilterImportance.BatchNormScale });
        using var pruned = result.Model;

        Assert.That(result.Groups.All(g => g.KeptChannels.SequenceEqual(Enumerable.Range(0, g.WidthBefore).Where(c => c % 2 == 0))));
        Assert.That(pruned.training, Is.False, "the pruned model takes the original's mode");
        var input = randn(4, 1, 28, 28, generator: new Generator(4));
        using var noGrad = no_grad();
        var expected = model.call(input);
        var actual = pruned.call(input);
        Assert.That((actual - expected).abs().max().item<float>(), Is.LessThan(1e-4f));
        Assert.That(Parameters(pruned), Is.LessThan(Parameters(model) / 3));
    }

    [Test]
    public void ImportanceSumsEachProducersNormalisedL1Norms()
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { Width = 1.0 / 6, Seed = 5 });   // widths 4, 8, 16
        var groups = ((IChannelPrunable)model).ChannelGroups();
        var state = model.state_dict();

        double[] L1(string weight) => Enumerable.Range(0, (int)state[weight].shape[0])
            .Select(c => state[weight][c].abs().sum().to(float64).item<double>()).ToArray();
        double[] Normalised(double[] v) => v.Select(x => x / v.Average()).ToArray();

        var stem = Normalised(L1("stem.0.weight"));
        Assert.That(ChannelPruner.ChannelImportance(model, groups[0], FilterImportance.L1Norm), Is.EqualTo(stem).Within(1e-6));
        var widen = Normalised(L1("widen1.0.weight"));
        var residual = Normalised(L1("res1.0.weight"));
        Assert.That(ChannelPruner.ChannelImportance(model, groups[1], FilterImportance.L1Norm),
            Is.EqualTo(widen.Zip(residual, (a, b) => a + b)).Within(1e-6), "tied channels rank by the sum over their producers");

        // The kept channels are the highest-ranked ones, in their original order.
        var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.5 });
        result.Model.Dispose();
        var expected = Enumerable.Range(0, 4).OrderByDescending(c => stem[c]).Take(2).Order();
        Assert.That(result.Groups[0].KeptChannels, Is.EqualTo(expected));
    }

    [Test]
    public void ChannelWidthsRebuildThePrunedModelFromTheZoo()
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create("resnet18", new ModelOptions { Width = 0.125, Seed = 6 });
        var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.6 });
        using var pruned = result.Model;
        using var rebuilt = ModelZoo.Create("resnet18", new ModelOptions { ChannelWidths = result.ChannelWidths.ToList() });
        rebuilt.load_state_dict(pruned.state_dict());
        pruned.eval();
        rebuilt.eval();
        var input = randn(2, 1, 28, 28, generator: new Generator(7));
        using (no_grad())
            Assert.That(rebuilt.call(input).Identical(pruned.call(input)), Is.True);
        Assert.That(((IChannelPrunable)rebuilt).ChannelWidths, Is.EqualTo(result.ChannelWidths));

        // Options compare the widths by value, so equal lists describe (and cache) the same model.
        var a = new ModelOptions { ChannelWidths = [4, 8, 16] };
        var b = new ModelOptions { ChannelWidths = new List<int> { 4, 8, 16 } };
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()));
        Assert.That(a, Is.Not.EqualTo(b with { ChannelWidths = [4, 8, 17] }));
        Assert.That(ModelZoo.Describe(ModelZoo.FastCnnName, a), Is.SameAs(ModelZoo.Describe(ModelZoo.FastCnnName, b)));
    }

    [TestCase("{\"InputChannels\":1,\"NumClasses\":10,\"Attention\":\"None\",\"ChannelWidths\":[4,8,16]}")]
    [TestCase("{\"inputChannels\":1,\"numClasses\":10,\"attention\":\"none\",\"channelWidths\":[4,8,16]}")]
    public void ManifestsGiveBackTheWidthsWhateverTheirSpelling(string json)
    {
        // The Trainer writes PascalCase; checkpoints of earlier CLI runs hold camelCase.
        var manifest = new FashionVision.Training.CheckpointManifest
        {
            ModelName = ModelZoo.FastCnnName, ModelOptionsJson = json, ClassNames = Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray(), InputShape = [1, 28, 28],
        };
        Assert.That(manifest.ZooModelOptions()!.ChannelWidths, Is.EqualTo(new[] { 4, 8, 16 }));
        Assert.That(manifest.ZooModelOptions()!.Attention, Is.EqualTo(AttentionKind.None));
        Assert.That((manifest with { ModelName = "no-such-model" }).ZooModelOptions(), Is.Null);
    }

    [Test]
    public void WhatCannotBePrunedIsRejected()
    {
        using var lenet = ModelZoo.Create("lenet5");
        Assert.That(() => ChannelPruner.Prune(lenet), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("IChannelPrunable"));
        using var se = ModelZoo.Create("se-resnet18", new ModelOptions { Width = 0.125 });
        Assert.That(() => ChannelPruner.Prune(se), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("attention"));
        using var fast = ModelZoo.Create(ModelZoo.FastCnnName);
        Assert.That(() => ChannelPruner.Prune(fast, new PruningOptions { Keep = 0 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Keep"));
        Assert.That(() => ChannelPruner.Prune(fast, new PruningOptions { Keep = 1.5 }),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("Keep"));

        Assert.That(() => ModelZoo.Create("lenet5", new ModelOptions { ChannelWidths = [4, 8, 16] }),
            Throws.ArgumentException.With.Message.Contains("does not take ModelOptions.ChannelWidths"));
        Assert.That(() => ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { ChannelWidths = [4, 8] }),
            Throws.ArgumentException.With.Message.Contains("three positive channel widths"));
        Assert.That(() => ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { ChannelWidths = [4, 8, 16], Width = 2 }),
            Throws.ArgumentException.With.Message.Contains("exclude each other"));
        Assert.That(() => ModelZoo.Create("resnet18", new ModelOptions { ChannelWidths = [4, 8, 0, 16] }),
            Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    private static void RandomizeBatchNorm(nn.Module model)
    {
        var generator = new Generator(9);
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not BatchNorm2d bn) continue;
            var n = bn.num_features;
            bn.running_mean!.copy_(randn(n, generator: generator) * 0.1f);
            bn.running_var!.copy_(rand(n, generator: generator) * 0.5f + 0.75f);
            bn.weight!.copy_(rand(n, generator: generator) * 0.5f + 0.75f);
            bn.bias!.copy_(randn(n, generator: generator) * 0.1f);
        }
    }
}
