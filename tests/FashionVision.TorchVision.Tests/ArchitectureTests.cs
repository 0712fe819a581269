using FashionVision.Models;
using FashionVision.TorchVision.Models;
using TorchSharp.Modules;

namespace FashionVision.TorchVision.Tests;

/// <summary>
/// Every registered torchvision architecture: its size against torchvision's published table, its names, and the zoo's
/// contract (features/embedding/classifier split, gradients everywhere, dropout, BatchNorm modes, head replacement), run at
/// a small input so that ResNet-50 and DenseNet-121 cost a fraction of a second each.
/// </summary>
public class ArchitectureTests
{
    public static IEnumerable<string> Names => TorchVisionModels.Names;

    // Parameters for 3×224×224 inputs and 1000 classes, from torchvision's model documentation (the "Params" column).
    private static readonly Dictionary<string, long> PublishedParameters = new()
    {
        [TorchVisionModels.ResNet18Name] = 11_689_512,
        [TorchVisionModels.ResNet50Name] = 25_557_032,
        [TorchVisionModels.MobileNetV3SmallName] = 2_542_856,
        [TorchVisionModels.MobileNetV3LargeName] = 5_483_032,
        [TorchVisionModels.EfficientNetB0Name] = 5_288_548,
        [TorchVisionModels.ShuffleNetV2Name] = 2_278_604,
        [TorchVisionModels.DenseNet121Name] = 7_978_856,
    };

    // One key of each architecture's torchvision state dict, deep enough to pin the nesting.
    private static readonly Dictionary<string, string[]> TorchvisionKeys = new()
    {
        [TorchVisionModels.ResNet18Name] = ["layer2.0.downsample.0.weight", "fc.bias"],
        [TorchVisionModels.ResNet50Name] = ["layer4.2.conv3.weight", "layer1.0.downsample.1.running_var"],
        [TorchVisionModels.MobileNetV3SmallName] = ["features.1.block.1.fc1.weight", "classifier.3.weight", "classifier.0.bias"],
        [TorchVisionModels.MobileNetV3LargeName] = ["features.16.0.weight", "features.4.block.2.fc2.bias", "classifier.3.weight"],
        [TorchVisionModels.EfficientNetB0Name] = ["features.0.0.weight", "features.1.0.block.1.fc1.weight", "features.6.3.block.3.1.running_mean", "features.8.1.weight", "classifier.1.weight"],
        [TorchVisionModels.ShuffleNetV2Name] = ["conv1.0.weight", "stage2.0.branch1.0.weight", "stage3.7.branch2.6.bias", "conv5.1.weight", "fc.weight"],
        [TorchVisionModels.DenseNet121Name] = ["features.conv0.weight", "features.denseblock3.denselayer24.conv2.weight", "features.transition2.norm.running_mean", "features.norm5.bias", "classifier.weight"],
    };

    private const int Size = 64;

    private static ImageClassifier Small(string name, int classes = 10, long seed = 11, double? dropRate = null) =>
        ModelZoo.Create(name, ModelZoo.DefaultOptions(name) with { NumClasses = classes, Seed = seed, DropRate = dropRate });

    private static Tensor Input(int batch, long seed = 5) =>
        rand(new long[] { batch, 3, Size, Size }, generator: new Generator((ulong)seed)) * 2 - 1;

    [Test]
    public void RegistrationIsExplicitIdempotentAndListed()
    {
        TorchVisionModels.Register();
        TorchVisionModels.Register();
        Assert.That(ModelZoo.Names, Is.SupersetOf(TorchVisionModels.Names));
        Assert.That(ModelZoo.Names.Count(n => n == TorchVisionModels.EfficientNetB0Name), Is.EqualTo(1));
        foreach (var name in TorchVisionModels.Names)
        {
            var registration = ModelZoo.GetRegistration(name);
            Assert.That(registration.Preprocessing, Is.EqualTo(InputPreprocessing.ImageNet(224)), name);
            Assert.That((registration.InputHeight, registration.InputWidth), Is.EqualTo((224, 224)), name);
        }
    }

    [TestCaseSource(nameof(Names))]
    public void ParameterCountsEqualTorchvisionsTable(string name)
    {
        using var model = ModelZoo.Create(name);
        Assert.That(model.NumClasses, Is.EqualTo(1000));
        Assert.That(model.parameters().Sum(p => p.numel()), Is.EqualTo(PublishedParameters[name]));
    }

    [TestCaseSource(nameof(Names))]
    public void StateDictUsesTorchvisionsNames(string name)
    {
        using var model = ModelZoo.Create(name);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.That(keys, Is.SupersetOf(TorchvisionKeys[name]));
        Assert.That(keys.Where(k => k.StartsWith(TorchVisionClassifier.DropoutName + ".", StringComparison.Ordinal)), Is.Empty, "dropout has no state");
        Assert.That(keys.Where(k => k.Split('.').Any(part => part.StartsWith('_'))), Is.Empty, "no C# field names");

        // Wrapped for grey images, the network keeps the same names under model.
        using var wrapped = ModelZoo.Create(name, new ModelOptions { InputChannels = 1, NumClasses = 1000, Preprocessing = InputPreprocessing.ImageNet(32) });
        Assert.That(wrapped.state_dict().Keys, Is.EquivalentTo(keys.Select(k => "model." + k)));
    }

    [TestCaseSource(nameof(Names))]
    public void ForwardIsHeadOfFeaturesAndEveryParameterLearns(string name)
    {
        using var scope = NewDisposeScope();
        using var model = Small(name);
        var input = Input(2);
        model.eval();
        using (no_grad())
        {
            var features = model.ForwardFeatures(input);
            var logits = model.ForwardHead(features);
            Assert.That(features.dim(), Is.EqualTo(4));
            Assert.That(logits.shape, Is.EqualTo(new long[] { 2, 10 }));
            Assert.That(model.call(input).Identical(logits), Is.True, "forward = head(features)");
            var embedding = model.ForwardEmbedding(features);
            Assert.That(embedding.shape[1], Is.EqualTo(model.Classifier.in_features));
        }

        model.train();
        var loss = nn.functional.cross_entropy(model.call(Input(4, seed: 6)), tensor(new long[] { 1, 3, 5, 7 }));
        loss.backward();
        foreach (var (parameterName, parameter) in model.named_parameters())
        {
            Assert.That(parameter.grad, Is.Not.Null, $"{name}: {parameterName} has no gradient");
            Assert.That(parameter.grad!.abs().sum().item<float>(), Is.GreaterThan(0f), $"{name}: {parameterName} has an all-zero gradient");
        }
    }

    [TestCaseSource(nameof(Names))]
    public void DropoutAndBatchNormFollowTheMode(string name)
    {
        using var scope = NewDisposeScope();
        using var model = Small(name, dropRate: 0.5);
        Assert.That(((TorchVisionClassifier)model).Dropout.p, Is.EqualTo(0.5));
        var input = Input(2);
        var norm = model.modules().OfType<BatchNorm2d>().First();
        var before = norm.running_mean!.clone();
        model.train();
        Assert.That(model.call(input).Identical(model.call(input)), Is.False, "dropout (and stochastic depth) draw anew in training");
        Assert.That(norm.running_mean!.Identical(before), Is.False, "training updates the running statistics");
        model.eval();
        Assert.That(model.call(input).Identical(model.call(input)), Is.True, "evaluation is deterministic");
        Assert.That(model.call(input[0..1]).allclose(model.call(input)[0..1], 1e-4, 1e-5), Is.True, "no batch dependence in evaluation");
    }

    [TestCaseSource(nameof(Names))]
    public void HeadIsReplaceableAndGreyInputsGetTheirOwnStem(string name)
    {
        using var scope = NewDisposeScope();
        using var model = Small(name, classes: 1000);
        var backbone = model.FeatureParameters().Select(p => p.Handle).ToHashSet();
        var oldHead = model.Classifier;
        model.ResetClassifier(7);
        Assert.That(model.NumClasses, Is.EqualTo(7));
        Assert.That(model.Classifier, Is.Not.SameAs(oldHead));
        Assert.That(model.Classifier.out_features, Is.EqualTo(7));
        Assert.That(model.FeatureParameters().Select(p => p.Handle), Is.EquivalentTo(backbone), "the backbone is kept");
        Assert.That(model.state_dict().Keys, Is.SupersetOf(TorchvisionKeys[name]), "the new head keeps torchvision's names");
        model.eval();
        using (no_grad())
            Assert.That(model.call(Input(1)).shape, Is.EqualTo(new long[] { 1, 7 }));

        using var grey = ModelZoo.Create(name, new ModelOptions { InputChannels = 1, NumClasses = 10, Seed = 3 });
        grey.eval();
        using (no_grad())
            Assert.That(grey.call(zeros(1, 1, Size, Size)).shape, Is.EqualTo(new long[] { 1, 10 }));
    }

    [Test]
    public void OptionsTheArchitecturesCannotHonourAreRefused()
    {
        var options = ModelZoo.DefaultOptions(TorchVisionModels.EfficientNetB0Name);
        Assert.That(Assert.Throws<ArgumentException>(() => ModelZoo.Create(TorchVisionModels.EfficientNetB0Name, options with { Width = 0.5 }))!.Message,
            Does.Contain("Width"));
        Assert.That(Assert.Throws<ArgumentException>(() => ModelZoo.Create(TorchVisionModels.ResNet50Name,
            ModelZoo.DefaultOptions(TorchVisionModels.ResNet50Name) with { Attention = AttentionKind.Cbam }))!.Message, Does.Contain("Attention"));
    }

    [Test]
    public void ZooDescribesSizeAndCostAtTheRegisteredInput()
    {
        var info = ModelZoo.Describe(TorchVisionModels.MobileNetV3SmallName);
        Assert.That(info.InputShape, Is.EqualTo("3×224×224"));
        Assert.That(info.ParameterCount, Is.EqualTo(PublishedParameters[TorchVisionModels.MobileNetV3SmallName]));
        // torchvision's table: 0.06 GFLOPS (multiply-adds) for mobilenet_v3_small at 224.
        Assert.That(info.MultiplyAddsPerImage / 1e9, Is.EqualTo(0.06).Within(0.005));
    }

    [Test]
    public void ResNet50ComputesWhatTorchVisionsOwnForwardComputes()
    {
        using var scope = NewDisposeScope();
        using var theirs = torchvision.models.resnet50(10);
        using var ours = new FashionVision.TorchVision.Models.TorchVisionResNet("resnet50", 3, 10);
        Assert.That(ours.state_dict().Keys, Is.EquivalentTo(theirs.state_dict().Keys));
        StateDicts.Load(ours, theirs.state_dict());
        theirs.eval();
        ours.eval();
        using var noGrad = no_grad();
        var input = Input(2);
        var expected = theirs.call(input);
        Assert.That(ours.call(input).allclose(expected, rtol: 1e-4, atol: 1e-5), Is.True,
            "the subsampled shortcut computes the strided one (up to the summation order of another convolution kernel)");
    }

    [Test]
    public void ChannelShuffleInterleavesTheTwoHalves()
    {
        using var x = arange(6, dtype: ScalarType.Float32).view(1, 6, 1, 1);
        using var shuffled = ShuffleUnit.ChannelShuffle(x, 2);
        Assert.That(shuffled.flatten().data<float>().ToArray(), Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }));
    }

    [Test]
    public void MakeDivisibleFollowsTorchvision()
    {
        Assert.That(EfficientNet.MakeDivisible(32), Is.EqualTo(32));
        Assert.That(EfficientNet.MakeDivisible(16 * 6), Is.EqualTo(96));
        Assert.That(EfficientNet.MakeDivisible(3), Is.EqualTo(8));
        Assert.That(EfficientNet.MakeDivisible(52), Is.EqualTo(56));
    }
}
