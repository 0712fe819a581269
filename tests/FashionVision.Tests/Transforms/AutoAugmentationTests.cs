using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

/// <summary>RandAugment and AutoAugment over the shared grayscale operation table.</summary>
public class AutoAugmentationTests
{
    private static Tensor Rotated(Tensor images, double degrees)
    {
        long n = images.shape[0];
        var matrices = TransformFunctional.AffineMatrix(full(n, degrees), zeros(n), zeros(n), ones(n), zeros(n), zeros(n));
        return TransformFunctional.AffineWarp(images, matrices);
    }

    [Test]
    public void AnAlwaysOnStepRotatesEverySampleByItsMagnitudeWithARandomSign()
    {
        // One sub-policy: rotate with probability 1 at level 9 of 9, i.e. ±30° (the standard range).
        using var scope = NewDisposeScope();
        var images = Pattern(40);
        var policy = new AutoAugment(new[] { new[] { new AutoAugmentStep(AugmentOperation.Rotate, 1.0, 9) } });
        var (result, _) = Run(policy, images, zeros(40, ScalarType.Int64));
        var left = Rotated(images, 30);
        var right = Rotated(images, -30);
        int positive = 0;
        for (int i = 0; i < 40; i++)
        {
            bool isLeft = MaxAbsDifference(result[i], left[i]) < 1e-5f, isRight = MaxAbsDifference(result[i], right[i]) < 1e-5f;
            Assert.That(isLeft ^ isRight, Is.True, $"sample {i} is rotated by exactly +30° or −30°");
            positive += isLeft ? 1 : 0;
        }
        Assert.That(positive, Is.InRange(10, 30), "both signs occur");
    }

    [Test]
    public void StepProbabilitiesSelectSamplesAndMagnitudesSetTheFactor()
    {
        // Brightness with probability 0.5 at level 5 of 9: factor 1 ± 0.9·5/9 = 1.5 or 0.5 on about half the samples.
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(200);
        var policy = new AutoAugment(new[] { new[] { new AutoAugmentStep(AugmentOperation.Brightness, 0.5, 5) } });
        var (result, _) = Run(policy, images, labels);
        var brighter = (images * 1.5f).clamp(0, 1);
        var darker = images * 0.5f;
        int changed = 0;
        for (int i = 0; i < 200; i++)
        {
            if (MaxAbsDifference(result[i], images[i]) == 0)
                continue;
            changed++;
            Assert.That(MaxAbsDifference(result[i], brighter[i]) < 1e-6f || MaxAbsDifference(result[i], darker[i]) < 1e-6f, Is.True, $"sample {i}");
        }
        Assert.That(changed, Is.InRange(70, 130));
    }

    [Test]
    public void TheGrayscaleCifar10PolicyKeepsTheGrayscaleStepsOfThePaper()
    {
        var policy = AutoAugment.GrayscaleCifar10Policy;
        Assert.That(policy, Has.Count.EqualTo(21), "25 sub-policies, 4 of them made only of Invert, Equalize or Color");
        Assert.That(policy.SelectMany(s => s).Count(), Is.EqualTo(33));
        Assert.That(policy.SelectMany(s => s).Select(s => s.Operation), Does.Not.Contain(AugmentOperation.Identity));
        Assert.That(policy[1], Is.EqualTo(new[] { new AutoAugmentStep(AugmentOperation.Rotate, 0.7, 2), new AutoAugmentStep(AugmentOperation.TranslateX, 0.3, 9) }));
        Assert.That(policy.SelectMany(s => s).All(s => s.Magnitude is >= 0 and <= 9), Is.True);
    }

    [Test]
    public void RandAugmentChangesMoreWithMoreOperationsAndAHigherMagnitude()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(64) + rand(64, 1, 28, 28, generator: new Generator(3)) * 0.05f;
        var labels = zeros(64, ScalarType.Int64);
        float Change(RandAugment policy) => (Run(policy, images, labels).Images - images).abs().mean().item<float>();
        float mild = Change(new RandAugment(operations: 1, magnitude: 3));
        float moreOps = Change(new RandAugment(operations: 3, magnitude: 3));
        float stronger = Change(new RandAugment(operations: 1, magnitude: 20));
        Assert.That(moreOps, Is.GreaterThan(mild * 1.5f));
        Assert.That(stronger, Is.GreaterThan(mild * 1.5f));
    }
}
