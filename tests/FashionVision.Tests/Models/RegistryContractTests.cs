using FashionVision.Models;
using TorchSharp.Modules;

namespace FashionVision.Tests.Models;

/// <summary>
/// Behaviour every registered model must have, run over <see cref="ModelZoo.Names"/>. To keep the suite fast on two cores,
/// the behavioural tests build each model narrower where the zoo allows it (width 0.25, or k = 1 for Wide ResNets: the same
/// depth, blocks, attention and code path, a fraction of the cost), and run <c>resnet18-imagenet</c> at 64×64. Full-size
/// models are built and run in the forward-shape and describe tests and counted in <see cref="ParameterCountTests"/>.
/// </summary>
public class RegistryContractTests
{
    public static IEnumerable<string> Names => ModelZoo.Names.Where(n => !n.StartsWith("user-net-") && !n.StartsWith("liar-"));

    private static ModelOptions CheapOptions(string name, double? dropRate = null)
    {
        var options = ModelZoo.DefaultOptions(name) with { Seed = 11, DropRate = dropRate };
        return name switch
        {
            "lenet5" => options,
            _ when name.StartsWith("wrn-", StringComparison.Ordinal) => options with { Width = 1 },
            _ => options with { Width = 0.25 },
        };
    }

    private static Tensor CheapInput(ImageClassifier model, string name, int batch, long seed = 5)
    {
        long size = name == "resnet18-imagenet" ? 64 : 28;
        return rand(new long[] { batch, model.InputChannels, size, size }, generator: new Generator((ulong)seed)) * 2 - 1;
    }

    [TestCaseSource(nameof(Names))]
    public void ForwardGivesLogitsAndFeaturesOfTheDocumentedShapes(string name)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(name, ModelZoo.DefaultOptions(name) with { NumClasses = 10 });
        var info = ModelZoo.Describe(name);
        int batch = name is "wrn-28-10" or "resnet18-imagenet" ? 1 : 2;
        var input = zeros(batch, info.InputChannels, info.InputHeight, info.InputWidth);
        model.eval();
        using var noGrad = no_grad();
        var features = model.ForwardFeatures(input);
        var logits = model.ForwardHead(features);
        Assert.That(features.dim(), Is.EqualTo(4));
        Assert.That(features.shape[0], Is.EqualTo(batch));
        Assert.That(logits.shape, Is.EqualTo(new long[] { batch, 10 }));
        Assert.That(model.call(input).Identical(logits), Is.True, "forward = head(features)");
        Assert.That(logits.isfinite().all().item<bool>(), Is.True);
    }

    [TestCaseSource(nameof(Names))]
    public void EveryParameterReceivesAGradient(string name)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(name, CheapOptions(name));
        var input = CheapInput(model, name, 2);
        var labels = tensor(new long[] { 1, 3 });
        var loss = nn.functional.cross_entropy(model.call(input), labels);
        loss.backward();
        foreach (var (parameterName, parameter) in model.named_parameters())
        {
            Assert.That(parameter.grad, Is.Not.Null, $"{name}: {parameterName} has no gradient");
            Assert.That(parameter.grad!.abs().sum().item<float>(), Is.GreaterThan(0f), $"{name}: {parameterName} has an all-zero gradient");
        }
    }

    [TestCaseSource(nameof(Names))]
    public void SaveAndLoadGiveIdenticalOutputs(string name)
    {
        using var scope = NewDisposeScope();
        using var original = ModelZoo.Create(name, CheapOptions(name) with { Seed = 1 });
        var input = CheapInput(original, name, 2);
        original.call(input); // one training-mode pass, so BatchNorm running statistics are not at their initial values
        original.eval();
        var expected = original.call(input);

        string dir = Path.Combine(Path.GetTempPath(), "fv-models-" + Guid.NewGuid().ToString("N"));
        try
        {
            ModelWeights.Save(original, Path.Combine(dir, "model.bin"));
            ModelWeights.SaveSafeTensors(original, Path.Combine(dir, "model.safetensors"));
            Assert.That(Directory.GetFiles(dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "model.bin", "model.safetensors" }),
                "atomic writes leave no temporary files");

            using var fromTorchSharp = ModelZoo.Create(name, CheapOptions(name) with { Seed = 2 });
            fromTorchSharp.eval();
            Assert.That(fromTorchSharp.call(input).Identical(expected), Is.False, "a different seed gives a different model");
            ModelWeights.Load(fromTorchSharp, Path.Combine(dir, "model.bin"));
            Assert.That(fromTorchSharp.call(input).Identical(expected), Is.True);

            using var fromSafeTensors = ModelZoo.Create(name, CheapOptions(name) with { Seed = 3 });
            fromSafeTensors.eval();
            var result = ModelWeights.LoadSafeTensors(fromSafeTensors, Path.Combine(dir, "model.safetensors"));
            Assert.That(result.Missing, Is.Empty);
            Assert.That(fromSafeTensors.call(input).Identical(expected), Is.True);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestCaseSource(nameof(Names))]
    public void DropoutIsRandomInTrainingAndDeterministicInEvaluation(string name)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(name, CheapOptions(name, dropRate: 0.5));
        var input = CheapInput(model, name, 2);
        model.train();
        Assert.That(model.call(input).Identical(model.call(input)), Is.False, "dropout draws a new mask each training pass");
        model.eval();
        Assert.That(model.call(input).Identical(model.call(input)), Is.True, "evaluation is deterministic");
    }

    [TestCaseSource(nameof(Names))]
    public void BatchNormUsesBatchStatisticsInTrainingAndRunningStatisticsInEvaluation(string name)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(name, CheapOptions(name, dropRate: 0.0));
        var norms = model.modules().OfType<BatchNorm2d>().ToList();
        if (norms.Count == 0)
        {
            Assert.That(name, Is.AnyOf("lenet5", "small-vit"), "only LeNet-5 and the ViT (LayerNorm) have no BatchNorm");
            return;
        }
        var input = CheapInput(model, name, 4);
        var first = input[0..1];
        var before = norms[0].running_mean!.clone();

        model.train();
        var batchOutput = model.call(input);
        Assert.That(norms[0].running_mean!.Identical(before), Is.False, "training updates the running mean");
        Assert.That(model.call(first).allclose(batchOutput[0..1], 1e-4, 1e-5), Is.False,
            "in training a sample's output depends on the rest of the batch");

        model.eval();
        var runningMean = norms[0].running_mean!.clone();
        Assert.That(model.call(first).allclose(model.call(input)[0..1], 1e-4, 1e-5), Is.True,
            "in evaluation a sample's output does not depend on the batch");
        Assert.That(norms[0].running_mean!.Identical(runningMean), Is.True, "evaluation leaves the running mean alone");
    }

    [TestCaseSource(nameof(Names))]
    public void DescribeReportsWhatTheModelIs(string name)
    {
        var info = ModelZoo.Describe(name);
        using var model = ModelZoo.Create(name);
        Assert.That(info.Name, Is.EqualTo(name));
        Assert.That(info.ParameterCount, Is.EqualTo(model.parameters().Sum(p => p.numel())));
        Assert.That(info.InputChannels, Is.EqualTo(model.InputChannels));
        Assert.That(info.InputShape, Is.EqualTo(name == "resnet18-imagenet" ? "3×224×224" : "1×28×28"));
        Assert.That(info.FlopsPerImage, Is.GreaterThanOrEqualTo(info.ParameterCount), "every weight takes part in at least one multiply-add per image");
        Assert.That(info.Summary, Is.Not.Empty);
        Assert.That(info.ReferenceAccuracy, Does.Contain("%"));
    }

    [TestCaseSource(nameof(Names))]
    public void ResetClassifierReplacesTheHeadOnly(string name)
    {
        using var scope = NewDisposeScope();
        using var model = ModelZoo.Create(name, CheapOptions(name));
        var featureCount = model.FeatureParameters().Count();
        var oldClassifier = model.Classifier;
        model.ResetClassifier(3);
        Assert.That(model.NumClasses, Is.EqualTo(3));
        Assert.That(model.Classifier, Is.Not.SameAs(oldClassifier));
        Assert.That(model.Classifier.out_features, Is.EqualTo(3));
        Assert.That(model.FeatureParameters().Count(), Is.EqualTo(featureCount));
        Assert.That(model.parameters().Count(p => p.Handle == model.Classifier.weight.Handle), Is.EqualTo(1), "the new head is registered");
        Assert.That(model.state_dict().Values.Count(t => t.shape.SequenceEqual(new long[] { 3, model.Classifier.in_features })), Is.EqualTo(1));
        model.eval();
        Assert.That(model.call(CheapInput(model, name, 2)).shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.ResetClassifier(0));
    }
}
