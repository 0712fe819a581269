using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

public class MixingTests
{
    /// <summary>Ten constant images with distinct values (so each pixel tells where it came from) and labels 0..9.</summary>
    private static (Tensor Images, Tensor Labels, float[] Values) ConstantBatch(long size = 16)
    {
        var values = Enumerable.Range(0, 10).Select(i => (i + 1) / 11f).ToArray();
        var images = tensor(values).view(10, 1, 1, 1).expand(10, 1, size, size).contiguous();
        return (images, arange(10, ScalarType.Int64), values);
    }

    [Test]
    public void CutMixTargetWeightsEqualThePastedAreaFraction()
    {
        using var scope = NewDisposeScope();
        var (images, labels, values) = ConstantBatch();
        var (mixed, targets) = Run(new CutMix(10, alpha: 1, p: 1), images, labels, seed: 11);
        Assert.That(targets.shape, Is.EqualTo(new long[] { 10, 10 }));
        int pastedSamples = 0;
        for (int i = 0; i < 10; i++)
        {
            int partner = (i + 9) % 10;
            var fromPartner = mixed[i].eq(values[partner]).to(ScalarType.Float32).mean().item<float>();
            var fromSelf = mixed[i].eq(values[i]).to(ScalarType.Float32).mean().item<float>();
            Assert.That(fromSelf + fromPartner, Is.EqualTo(1f).Within(1e-6f), $"sample {i} holds only its own and its partner's pixels");
            Assert.That(targets[i, partner].item<float>(), Is.EqualTo(fromPartner).Within(1e-6f), $"sample {i}: partner weight");
            Assert.That(targets[i, i].item<float>(), Is.EqualTo(fromSelf).Within(1e-6f), $"sample {i}: own weight");
            pastedSamples += fromPartner > 0 ? 1 : 0;
        }
        Assert.That(pastedSamples, Is.GreaterThan(5), "most samples get a patch");
        Assert.That(targets.sum(1).sub(1).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void CutMixPastesARectangle()
    {
        using var scope = NewDisposeScope();
        var (images, labels, values) = ConstantBatch(20);
        var (mixed, _) = Run(new CutMix(10, p: 1), images, labels, seed: 5);
        for (int i = 0; i < 10; i++)
        {
            var pasted = mixed[i, 0].eq(values[(i + 9) % 10]);
            long count = pasted.sum().item<long>();
            if (count == 0)
                continue;
            long h = pasted.any(1).sum().item<long>(), w = pasted.any(0).sum().item<long>();
            Assert.That(count, Is.EqualTo(h * w), $"sample {i}");
        }
    }

    [Test]
    public void MixupTargetsSumToOneAndMatchTheImageWeights()
    {
        using var scope = NewDisposeScope();
        var (images, labels, values) = ConstantBatch(4);
        var (mixed, targets) = Run(new Mixup(10, alpha: 0.4, p: 1), images, labels, seed: 3);
        Assert.That(targets.sum(1).sub(1).abs().max().item<float>(), Is.LessThan(1e-6f));
        for (int i = 0; i < 10; i++)
        {
            int partner = (i + 9) % 10;
            float pixel = mixed[i, 0, 0, 0].item<float>();
            float lambda = (pixel - values[partner]) / (values[i] - values[partner]);
            Assert.That(targets[i, i].item<float>(), Is.EqualTo(lambda).Within(1e-4f), $"sample {i}");
            Assert.That(mixed[i].eq(pixel).all().item<bool>(), Is.True, "the blend is uniform over the image");
        }
    }

    [Test]
    public void AlreadySoftTargetsAreMixedAgainAndStillSumToOne()
    {
        using var scope = NewDisposeScope();
        var (images, labels, _) = ConstantBatch();
        var chain = new Compose(new CutMix(10, p: 1), new Mixup(10, p: 1));
        var (_, targets) = Run(chain, images, labels);
        Assert.That(targets.shape, Is.EqualTo(new long[] { 10, 10 }));
        Assert.That(targets.sum(1).sub(1).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(targets.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(targets.gt(0).sum(1).max().item<long>(), Is.GreaterThan(2), "a twice-mixed sample can hold more than two classes");
    }

    [Test]
    public void UnselectedSamplesKeepTheirImageAndAOneHotTarget()
    {
        using var scope = NewDisposeScope();
        var (images, labels, _) = ConstantBatch();
        var (mixed, targets) = Run(new Mixup(10, p: 0.5), images, labels, seed: 9);
        var changed = ChangedSamples(images, mixed);
        Assert.That(changed.Count(c => c), Is.InRange(1, 9));
        var oneHot = nn.functional.one_hot(labels, 10).to(ScalarType.Float32);
        for (int i = 0; i < 10; i++)
            if (!changed[i])
                Assert.That(targets[i].IsSameAs(oneHot[i]), Is.True, $"sample {i}");
    }

    [Test]
    public void BetaSamplesHaveTheRightMean()
    {
        using var scope = NewDisposeScope();
        var beta = TransformFunctional.SampleBeta(20000, 0.4, new Generator(1));
        Assert.That(beta.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(beta.max().item<float>(), Is.LessThanOrEqualTo(1f));
        Assert.That(beta.mean().item<float>(), Is.EqualTo(0.5f).Within(0.01f));
        // Var of Beta(a, a) = 1 / (4 (2a + 1)).
        Assert.That(beta.var().item<float>(), Is.EqualTo(1 / (4 * 1.8f)).Within(0.01f));
    }

    [Test]
    public void WrongClassCountsAreRejectedWithTheParameterName()
    {
        using var scope = NewDisposeScope();
        var (images, labels, _) = ConstantBatch();
        var tooFew = Assert.Throws<ArgumentException>(() => Run(new CutMix(5, p: 1), images, labels));
        Assert.That(tooFew!.ParamName, Is.EqualTo("targets"));
        var soft = Assert.Throws<ArgumentException>(() => Run(new Mixup(12, p: 1), images, zeros(10, 10)));
        Assert.That(soft!.ParamName, Is.EqualTo("targets"));
    }
}
