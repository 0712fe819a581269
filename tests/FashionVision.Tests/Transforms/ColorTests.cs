using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

public class ColorTests
{
    [Test]
    public void BrightnessAndContrastKernelsScaleAsDefined()
    {
        using var scope = NewDisposeScope();
        var (images, _) = Batch(2, 1, 4, 4);
        var brighter = TransformFunctional.AdjustBrightness(images, tensor(new float[] { 0.5f, 1f }));
        Assert.That(MaxAbsDifference(brighter[0], images[0] * 0.5f), Is.LessThan(1e-7f));
        Assert.That(brighter[1].IsSameAs(images[1]), Is.True);
        var flat = TransformFunctional.AdjustContrast(images, tensor(new float[] { 0f, 1f }));
        Assert.That(MaxAbsDifference(flat[0], full_like(flat[0], images[0].mean().item<float>())), Is.LessThan(1e-6f));
        Assert.That(MaxAbsDifference(flat[1], images[1]), Is.LessThan(1e-6f));
    }

    [Test]
    public void ColorJitterAndNoiseStayInRange()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(32);
        var chain = new Compose(new ColorJitter(brightness: 0.8, contrast: 0.8), new GaussianNoise(std: 0.3, p: 1));
        var (result, _) = Run(chain, images, labels);
        Assert.That(result.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(result.max().item<float>(), Is.LessThanOrEqualTo(1f));
        Assert.That(ChangedSamples(images, result), Is.All.True);
    }

    [Test]
    public void GaussianNoiseHasTheRequestedSpread()
    {
        using var scope = NewDisposeScope();
        var images = full(8, 1, 32, 32, 0.5f);
        var (noisy, _) = Run(new GaussianNoise(std: 0.05, p: 1), images, zeros(8, ScalarType.Int64));
        Assert.That((noisy - images).std().item<float>(), Is.EqualTo(0.05f).Within(0.003f));
    }

    [Test]
    public void PosterizeSolarizeAutoContrastAndSharpness()
    {
        using var scope = NewDisposeScope();
        var (images, _) = Batch(2, 1, 8, 8);
        var posterized = TransformFunctional.Posterize(images, tensor(new float[] { 1, 8 }));
        Assert.That(posterized[0].unique().Item1.numel(), Is.LessThanOrEqualTo(2));
        Assert.That(MaxAbsDifference(posterized[1], images[1]), Is.LessThanOrEqualTo(0.5f / 255 + 1e-6f));
        var solarized = TransformFunctional.Solarize(images, tensor(new float[] { 0f, 1.1f }));
        Assert.That(MaxAbsDifference(solarized[0], 1 - images[0]), Is.LessThan(1e-6f));
        Assert.That(solarized[1].IsSameAs(images[1]), Is.True);
        var stretched = TransformFunctional.AutoContrast(images);
        Assert.That(stretched.amin(new long[] { 1, 2, 3 }).max().item<float>(), Is.EqualTo(0f).Within(1e-6f));
        Assert.That(stretched.amax(new long[] { 1, 2, 3 }).min().item<float>(), Is.EqualTo(1f).Within(1e-6f));
        var same = TransformFunctional.AdjustSharpness(images, ones(2));
        Assert.That(MaxAbsDifference(same, images), Is.LessThan(1e-6f));
        var sharper = TransformFunctional.AdjustSharpness(images, full(2, 2f));
        Assert.That(sharper[.., .., 0].IsSameAs(images[.., .., 0]), Is.True, "border rows are kept");
        Assert.That(sharper.std().item<float>(), Is.GreaterThan(images.std().item<float>()));
    }

    [Test]
    public void NormalizeFromImagesStandardisesEachChannel()
    {
        using var scope = NewDisposeScope();
        var bytes = randint(0, 256, new long[] { 50, 2, 8, 8 }, ScalarType.Byte, generator: new Generator(4));
        var normalize = Normalize.FromImages(bytes);
        Assert.That(normalize.Mean, Has.Count.EqualTo(2));
        var floats = bytes.to(ScalarType.Float32) / 255;
        var (result, _) = Run(normalize, floats, zeros(50, ScalarType.Int64));
        for (int c = 0; c < 2; c++)
        {
            Assert.That(result[.., c].mean().item<float>(), Is.EqualTo(0f).Within(1e-4f));
            Assert.That(result[.., c].std(unbiased: false).item<float>(), Is.EqualTo(1f).Within(1e-4f));
        }
        var fromLibrary = Normalize.FromStatistics(FashionVision.Data.ChannelStatistics.Compute(bytes));
        Assert.That(fromLibrary.Mean, Is.EqualTo(normalize.Mean).Within(1e-5f));
        Assert.That(fromLibrary.Std, Is.EqualTo(normalize.Std).Within(1e-5f));
        Assert.That(new Normalize(new[] { 0.5f }, new[] { 0.25f }).Describe(), Is.EqualTo("Normalize(mean=[0.5], std=[0.25])"));
    }

    [Test]
    public void NormalizeRejectsBadStatistics()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => new Normalize(new[] { 0.5f }, new[] { 0f }))!.ParamName, Is.EqualTo("std"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Normalize(new[] { 0.5f, 0.5f }, new[] { 1f }))!.ParamName, Is.EqualTo("std"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Normalize(new[] { float.NaN }, new[] { 1f }))!.ParamName, Is.EqualTo("mean"));
        using var scope = NewDisposeScope();
        var three = new Normalize(new[] { 0f, 0f, 0f }, new[] { 1f, 1f, 1f });
        Assert.That(Assert.Throws<ArgumentException>(() => Run(three, rand(1, 2, 4, 4), zeros(1, ScalarType.Int64)))!.ParamName,
            Is.EqualTo("images"));
    }

    [Test]
    public void NormalizeFromRealFashionMnistStandardisesIt()
    {
        using var test = new FashionVision.Data.FashionMnistSource().Load(FashionVision.Data.DatasetSplit.Test);
        using var scope = NewDisposeScope();
        var normalize = Normalize.FromImages(test.Images);
        var (images, _) = normalize.Apply(test.Images.to_type(ScalarType.Float32).div(255), zeros(test.Count, ScalarType.Int64), new torch.Generator(0));
        Assert.That(images.mean().item<float>(), Is.EqualTo(0f).Within(1e-3f));
        Assert.That(images.std(unbiased: false).item<float>(), Is.EqualTo(1f).Within(1e-3f));
    }
}
