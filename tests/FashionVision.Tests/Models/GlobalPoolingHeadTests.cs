using FashionVision.Models;

namespace FashionVision.Tests.Models;

/// <summary>The one head (global average pooling → dropout → linear) that ResNet, Wide ResNet, MobileNet and VggCnn share.</summary>
public class GlobalPoolingHeadTests
{
    private static readonly string[] PooledHeadModels = { "vgg-cnn", "resnet18", "wrn-16-4", "mobilenet" };

    private static ImageClassifier Cheap(string name, long seed = 3) =>
        ModelZoo.Create(name, ModelZoo.DefaultOptions(name) with { Seed = seed, Width = name.StartsWith("wrn-", StringComparison.Ordinal) ? 1 : 0.25, DropRate = 0.3 });

    [TestCaseSource(nameof(PooledHeadModels))]
    public void TheHeadIsTheSharedOneUnderTheStateDictNamesTorchvisionUses(string name)
    {
        using var scope = NewDisposeScope();
        using var model = Cheap(name);
        Assert.That(model, Is.InstanceOf<GlobalPoolingClassifier>());
        var pooled = (GlobalPoolingClassifier)model;
        var keys = model.state_dict().Keys.ToArray();
        var parameterNames = model.named_parameters().Select(p => p.name).ToArray();
        Assert.That(parameterNames[^2..], Is.EqualTo(new[] { "fc.weight", "fc.bias" }), "the head's parameters come last, named as before");
        Assert.That(keys.Count(k => k.StartsWith("fc.", StringComparison.Ordinal)), Is.EqualTo(2));
        Assert.That(keys.Any(k => k.StartsWith("avgpool", StringComparison.Ordinal) || k.StartsWith("dropout", StringComparison.Ordinal)), Is.False,
            "pooling and dropout have no state");
        Assert.That(pooled.Classifier.in_features, Is.EqualTo(pooled.FeatureChannels));

        model.eval();
        using var noGrad = no_grad();
        var features = model.ForwardFeatures(rand(new long[] { 2, 1, 28, 28 }, generator: new Generator(4)));
        Assert.That(features.shape[1], Is.EqualTo(pooled.FeatureChannels));
        var expected = pooled.Classifier.call(features.mean(new long[] { 2, 3 }));
        Assert.That(model.ForwardHead(features).allclose(expected, 1e-5, 1e-6), Is.True, "in evaluation: fc(mean over the map)");
    }

    [TestCaseSource(nameof(PooledHeadModels))]
    public void ResetClassifierKeepsTheNameDeviceAndDtypeAndSoWeightsStillLoad(string name)
    {
        using var scope = NewDisposeScope();
        using var model = Cheap(name);
        model.to(ScalarType.Float64);
        model.ResetClassifier(4);
        Assert.That(model.Classifier.weight.dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That(model.named_parameters().Select(p => p.name).TakeLast(2), Is.EqualTo(new[] { "fc.weight", "fc.bias" }));

        using var other = Cheap(name, seed: 9);
        other.ResetClassifier(4);
        other.to(ScalarType.Float64);
        other.load_state_dict(model.state_dict());
        Assert.That(other.Classifier.weight.Identical(model.Classifier.weight), Is.True);
    }
}
