using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

public class ChainTests
{
    /// <summary>Every random op, built with the given probability.</summary>
    private static readonly (string Name, Func<double, IBatchTransform> Build)[] Ops =
        {
            ("HorizontalFlip", p => new RandomHorizontalFlip(p)),
            ("VerticalFlip", p => new RandomVerticalFlip(p)),
            ("Rotation", p => new RandomRotation(20, p)),
            ("Affine", p => new RandomAffine(10, 0.1, (0.9, 1.1), 5, p)),
            ("Crop", p => new RandomCrop(4, p: p)),
            ("ResizedCrop", p => new RandomResizedCrop(28, 28, scale: (0.3, 0.7), p: p)),
            ("Elastic", p => new ElasticDistortion(34, 4, p)),
            ("Erasing", p => new RandomErasing(p)),
            ("ColorJitter", p => new ColorJitter(0.5, 0.5, p)),
            ("Noise", p => new GaussianNoise(0.1, p)),
            ("CutMix", p => new CutMix(10, 1, p)),
            ("Mixup", p => new Mixup(10, 1, p)),
            ("TrivialAugment", p => new TrivialAugment(p: p)),
            ("RandAugment", p => new RandAugment(p: p)),
            ("AutoAugment", p => new AutoAugment(p: p)),
            ("RandomApply", p => new RandomApply(new RandomRotation(20, 1), p)),
        };

    private static IEnumerable<TestCaseData> RandomOps() => Ops.Select(o => new TestCaseData(o.Build).SetArgDisplayNames(o.Name));

    [TestCaseSource(nameof(RandomOps))]
    public void POfZeroChangesNothing(Func<double, IBatchTransform> build)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(12);
        var (result, targets) = Run(build(0), images, labels);
        Assert.That(result.IsSameAs(images), Is.True);
        Assert.That(targets.IsSameAs(labels), Is.True);
    }

    /// <summary>
    /// The random ops for which every draw changes a sample (a random crop may draw the centred, unshifted crop; RandAugment may
    /// draw the identity twice; an AutoAugment sub-policy's steps may all be skipped by their probabilities).
    /// </summary>
    private static IEnumerable<TestCaseData> AlwaysChangingOps() =>
        Ops.Where(o => o.Name is not ("Crop" or "RandAugment" or "AutoAugment")).Select(o => new TestCaseData(o.Build).SetArgDisplayNames(o.Name));

    [TestCaseSource(nameof(AlwaysChangingOps))]
    public void POfOneChangesEverySample(Func<double, IBatchTransform> build)
    {
        using var scope = NewDisposeScope();
        // An asymmetric smooth pattern with distinct samples: every op must visibly change every sample.
        var images = Pattern(10) + rand(10, 1, 28, 28, generator: new Generator(2)) * 0.05f;
        var (result, _) = Run(build(1), images, arange(10, ScalarType.Int64), seed: 1);
        Assert.That(ChangedSamples(images, result, 1e-4), Is.All.True);
    }

    [TestCaseSource(nameof(RandomOps))]
    public void SameSeedGivesTheSameBatchAndAnotherSeedAnother(Func<double, IBatchTransform> build)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(16);
        var op = build(0.7);
        var first = Run(op, images, labels, seed: 42);
        var again = Run(op, images, labels, seed: 42);
        var other = Run(op, images, labels, seed: 43);
        Assert.That(again.Images.IsSameAs(first.Images), Is.True);
        Assert.That(again.Targets.IsSameAs(first.Targets), Is.True);
        Assert.That(other.Images.IsSameAs(first.Images), Is.False);
    }

    [TestCaseSource(nameof(RandomOps))]
    public void ValuesStayInRange(Func<double, IBatchTransform> build)
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(16);
        var (result, _) = Run(build(1), images, labels);
        Assert.That(result.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(result.max().item<float>(), Is.LessThanOrEqualTo(1f));
    }

    [Test]
    public void TypicalChainIsDeterministicPerSeedAndProducesSoftTargets()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(32);
        var chain = AugmentationPresets.Get("strong");
        var a = Run(chain, images, labels, seed: 5);
        var b = Run(chain, images, labels, seed: 5);
        var c = Run(chain, images, labels, seed: 6);
        Assert.That(a.Images.IsSameAs(b.Images), Is.True);
        Assert.That(a.Targets.IsSameAs(b.Targets), Is.True);
        Assert.That(a.Images.IsSameAs(c.Images), Is.False);
        Assert.That(a.Targets.shape, Is.EqualTo(new long[] { 32, 10 }));
    }

    [Test]
    public void FusedAffineRunMatchesTheUnfusedChain()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(16);
        var labels = zeros(16, ScalarType.Int64);
        IBatchTransform[] ops = { new RandomHorizontalFlip(0.5), new RandomVerticalFlip(0.5) };
        var fused = Run(new Compose(ops), images, labels);
        var unfused = Run(new Compose(ops) { FuseAffine = false }, images, labels);
        Assert.That(MaxAbsDifference(fused.Images, unfused.Images), Is.LessThan(1e-5f), "flips are exact either way");

        // Rotation then zoom: one resampling instead of two, so only interpolation blur differs, and the draws are the same.
        IBatchTransform[] geometric = { new RandomHorizontalFlip(0.5), new RandomRotation(10, 1), new RandomAffine(scale: (0.95, 1.05), p: 1) };
        var f = Run(new Compose(geometric), images, labels);
        var u = Run(new Compose(geometric) { FuseAffine = false }, images, labels);
        Assert.That((f.Images - u.Images).abs().mean().item<float>(), Is.LessThan(0.01f));
    }

    [Test]
    public void ElasticAfterAnAffineRunIsFusedIntoTheSameGrid()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(16);
        var labels = zeros(16, ScalarType.Int64);
        IBatchTransform[] ops = { new RandomHorizontalFlip(0.5), new RandomRotation(10, 0.5), new ElasticDistortion(8, 3, 0.5) };
        var fused = Run(new Compose(ops), images, labels);
        var unfused = Run(new Compose(ops) { FuseAffine = false }, images, labels);
        Assert.That((fused.Images - unfused.Images).abs().mean().item<float>(), Is.LessThan(0.01f));
        Assert.That(ChangedSamples(images, fused.Images, 0), Is.EqualTo(ChangedSamples(images, unfused.Images, 0)));

        // Elastic alone, or after a non-affine op, runs on its own and gives exactly the unfused result.
        IBatchTransform[] separate = { new RandomErasing(0.5), new ElasticDistortion(8, 3, 0.5) };
        Assert.That(Run(new Compose(separate), images, labels).Images.IsSameAs(
            Run(new Compose(separate) { FuseAffine = false }, images, labels).Images), Is.True);
    }

    [Test]
    public void FusionKeepsUnselectedSamplesBitIdentical()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(64);
        var chain = new Compose(new RandomRotation(10, 0.3), new RandomAffine(translate: 0.1, p: 0.3));
        var (result, _) = Run(chain, images, labels);
        var changed = ChangedSamples(images, result, 0);
        Assert.That(changed.Count(c => c), Is.InRange(10, 50));
        for (int i = 0; i < 64; i++)
            if (!changed[i])
                Assert.That(result[i].IsSameAs(images[i]), Is.True);
    }

    [Test]
    public void ClassConditionalChangesOnlyTheChosenClasses()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(40);
        var shirts = new ClassConditional(new Compose(new RandomAffine(15, 0.1, p: 1), new RandomErasing(p: 1)), 0, 6);
        var (result, targets) = Run(shirts, images, labels);
        var changed = ChangedSamples(images, result, 0);
        var classes = labels.data<long>().ToArray();
        for (int i = 0; i < 40; i++)
            Assert.That(changed[i], Is.EqualTo(classes[i] is 0 or 6), $"sample {i} of class {classes[i]}");
        Assert.That(targets.IsSameAs(labels), Is.True);
        Assert.That(shirts.Describe(), Does.StartWith("ClassConditional(Compose(RandomAffine(").And.EndWith("classes=[0, 6])"));
    }

    [Test]
    public void ClassConditionalWithMixingMakesEveryTargetSoft()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(20);
        var (_, targets) = Run(new ClassConditional(new Mixup(10, p: 1), 3, 4), images, labels);
        Assert.That(targets.shape, Is.EqualTo(new long[] { 20, 10 }));
        var classes = labels.data<long>().ToArray();
        for (int i = 0; i < 20; i++)
            if (classes[i] is not (3 or 4))
                Assert.That(targets[i, classes[i]].item<float>(), Is.EqualTo(1f));
        Assert.Throws<ArgumentException>(() => Run(new ClassConditional(new RandomHorizontalFlip(), 1), images, zeros(20, 10)));
    }

    [Test]
    public void RandomChoiceRunsExactlyOneTransformPerSample()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(60);
        var choice = new RandomChoice(new RandomHorizontalFlip(1), new RandomVerticalFlip(1));
        var (result, _) = Run(choice, images, labels);
        var h = TransformFunctional.HorizontalFlip(images);
        var v = TransformFunctional.VerticalFlip(images);
        int horizontal = 0;
        for (int i = 0; i < 60; i++)
        {
            bool isH = result[i].IsSameAs(h[i]), isV = result[i].IsSameAs(v[i]);
            Assert.That(isH ^ isV, Is.True, $"sample {i}");
            horizontal += isH ? 1 : 0;
        }
        Assert.That(horizontal, Is.InRange(15, 45));
        var weighted = new RandomChoice(new IBatchTransform[] { new RandomHorizontalFlip(1), new RandomVerticalFlip(1) }, new[] { 1.0, 0.0 });
        Assert.That(Run(weighted, images, labels).Images.IsSameAs(h), Is.True);
    }

    [Test]
    public void PresetsAreListedAndBuild()
    {
        Assert.That(AugmentationPresets.Names, Is.EqualTo(new[] { "none", "basic", "standard", "strong", "trivial", "randaugment", "autoaugment", "jitter", "mixup" }));
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(8);
        foreach (var name in AugmentationPresets.Names)
        {
            var (result, _) = Run(AugmentationPresets.Get(name), images, labels);
            Assert.That(result.shape, Is.EqualTo(images.shape), name);
        }
        Assert.That(AugmentationPresets.Get("none").IsIdentity, Is.True);
        Assert.That(AugmentationPresets.Get("Standard", flip: false).Describe(), Does.Not.Contain("Flip"));
        var unknown = Assert.Throws<ArgumentException>(() => AugmentationPresets.Get("extreme"));
        Assert.That(unknown!.ParamName, Is.EqualTo("name"));
        Assert.That(unknown.Message, Does.Contain("none, basic, standard, strong, trivial, randaugment, autoaugment, jitter, mixup"));
        Assert.That(AugmentationPresets.Get("mixup").Describe(), Does.Contain("Mixup(num_classes=10"));
        Assert.That(AugmentationPresets.Get("jitter").Describe(), Does.Contain("ColorJitter(brightness=0.3, contrast=0.3"));
        Assert.That(AugmentationPresets.Get("randaugment").Describe(), Does.Contain("RandAugment(operations=2, magnitude=9/30"));
        Assert.That(AugmentationPresets.Get("autoaugment").Describe(), Does.Contain("AutoAugment(sub_policies=21"));
    }

    [Test]
    public void DescriptionsAreReadable()
    {
        Assert.That(new RandomRotation(15, 0.5).Describe(), Is.EqualTo("RandomRotation(degrees=15, p=0.5)"));
        Assert.That(new RandomHorizontalFlip().Describe(), Is.EqualTo("RandomHorizontalFlip(p=0.5)"));
        Assert.That(new RandomAffine(10, 0.1, (0.9, 1.1), 5, 0.5).Describe(),
            Is.EqualTo("RandomAffine(degrees=10, translate=0.1, scale=(0.9, 1.1), shear=5, p=0.5)"));
        Assert.That(new ElasticDistortion(34, 4, 0.3).Describe(), Is.EqualTo("ElasticDistortion(alpha=34, sigma=4, p=0.3)"));
        Assert.That(new RandomErasing(0.25).Describe(), Is.EqualTo("RandomErasing(p=0.25, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0)"));
        Assert.That(new CutMix(10, 1, 0.5).Describe(), Is.EqualTo("CutMix(num_classes=10, alpha=1, p=0.5)"));
        Assert.That(new Mixup(10, 0.2, 1).Describe(), Is.EqualTo("Mixup(num_classes=10, alpha=0.2, p=1)"));
        Assert.That(new RandomCrop(4).Describe(), Is.EqualTo("RandomCrop(padding=4, mode=Constant, p=1)"));
        Assert.That(new Compose(new RandomVerticalFlip(1), new GaussianNoise(0.1, 0.5)).Describe(),
            Is.EqualTo("Compose(RandomVerticalFlip(p=1), GaussianNoise(std=0.1, p=0.5))"));
        Assert.That(new Resize(224, 224).ToString(), Is.EqualTo("Resize(height=224, width=224)"));
    }

    private static IEnumerable<TestCaseData> BadArguments()
    {
        TestCaseData Case(string name, TestDelegate build, string param) => new TestCaseData(build, param).SetArgDisplayNames(name);
        yield return Case("p>1", () => new RandomHorizontalFlip(1.5), "p");
        yield return Case("p<0", () => new RandomRotation(10, -0.1), "p");
        yield return Case("p NaN", () => new RandomErasing(double.NaN), "p");
        yield return Case("degrees NaN", () => new RandomRotation(double.NaN), "degrees");
        yield return Case("degrees negative", () => new RandomAffine(degrees: -1), "degrees");
        yield return Case("translate > 1", () => new RandomAffine(translate: 1.5), "translate");
        yield return Case("scale reversed", () => new RandomAffine(scale: (1.2, 0.8)), "scale");
        yield return Case("scale zero", () => new RandomAffine(scale: (0, 1)), "scale");
        yield return Case("shear 90", () => new RandomAffine(shear: 90), "shear");
        yield return Case("sigma negative", () => new ElasticDistortion(34, -1), "sigma");
        yield return Case("alpha negative", () => new ElasticDistortion(-1, 4), "alpha");
        yield return Case("erasing scale > 1", () => new RandomErasing(scale: (0.5, 1.5)), "scale");
        yield return Case("erasing ratio negative", () => new RandomErasing(ratio: (-1, 2)), "ratio");
        yield return Case("cutmix alpha 0", () => new CutMix(10, 0), "alpha");
        yield return Case("mixup one class", () => new Mixup(1), "numClasses");
        yield return Case("noise std negative", () => new GaussianNoise(-0.1), "std");
        yield return Case("jitter NaN", () => new ColorJitter(double.NaN), "brightness");
        yield return Case("crop padding negative", () => new RandomCrop(-1), "padding");
        yield return Case("resized crop size", () => new RandomResizedCrop(0, 28), "height");
        yield return Case("resize size", () => new Resize(28, -3), "width");
        yield return Case("trivial bins", () => new TrivialAugment(magnitudeBins: 1), "magnitudeBins");
        yield return Case("randaugment no ops", () => new RandAugment(operations: 0), "operations");
        yield return Case("randaugment magnitude", () => new RandAugment(magnitude: 31), "magnitude");
        yield return Case("autoaugment empty", () => new AutoAugment(Array.Empty<AutoAugmentStep[]>()), "policy");
        yield return Case("autoaugment level", () => new AutoAugment(new[] { new[] { new AutoAugmentStep(AugmentOperation.Rotate, 0.5, 10) } }), "policy");
        yield return Case("autoaugment probability", () => new AutoAugment(new[] { new[] { new AutoAugmentStep(AugmentOperation.Rotate, 1.5, 3) } }), "policy");
        yield return Case("class none", () => new ClassConditional(new RandomHorizontalFlip()), "classes");
        yield return Case("compose null", () => new Compose(new RandomHorizontalFlip(), null!), "transforms");
        yield return Case("choice weights", () => new RandomChoice(new IBatchTransform[] { new RandomHorizontalFlip() }, new[] { -1.0 }), "weights");
    }

    [TestCaseSource(nameof(BadArguments))]
    public void BadConstructorArgumentsNameTheParameter(TestDelegate build, string parameter)
    {
        var error = Assert.Catch<ArgumentException>(build);
        Assert.That(error!.ParamName, Is.EqualTo(parameter));
    }

    [Test]
    public void BadBatchesNameTheArgument()
    {
        using var scope = NewDisposeScope();
        var flip = new RandomHorizontalFlip();
        var g = new Generator(1);
        var labels = zeros(4, ScalarType.Int64);
        Assert.That(Assert.Throws<ArgumentException>(() => flip.Apply(rand(4, 28, 28), labels, g))!.ParamName, Is.EqualTo("images"));
        Assert.That(Assert.Throws<ArgumentException>(() => flip.Apply(zeros(new long[] { 4, 1, 28, 28 }, ScalarType.Byte), labels, g))!.ParamName,
            Is.EqualTo("images"));
        Assert.That(Assert.Throws<ArgumentException>(() => flip.Apply(rand(4, 1, 8, 8), zeros(5, ScalarType.Int64), g))!.ParamName,
            Is.EqualTo("targets"));
        Assert.That(Assert.Throws<ArgumentException>(() => flip.Apply(rand(4, 1, 8, 8), zeros(4, ScalarType.Int32), g))!.ParamName,
            Is.EqualTo("targets"));
        Assert.That(Assert.Throws<ArgumentException>(() => flip.Apply(rand(4, 1, 8, 8), zeros(4, 3, 2), g))!.ParamName,
            Is.EqualTo("targets"));
        Assert.Throws<ArgumentNullException>(() => flip.Apply(rand(4, 1, 8, 8), labels, null!));
    }

    [Test]
    public void TransformsReleaseTheirTemporaries()
    {
        using var outer = NewDisposeScope();
        var (images, labels) = Batch(8);
        var chain = AugmentationPresets.Get("strong");
        using var scope = NewDisposeScope();
        Run(chain, images, labels);
        Assert.That(scope.DisposablesCount, Is.EqualTo(2), "only the two results reach the caller's scope");
    }
}
