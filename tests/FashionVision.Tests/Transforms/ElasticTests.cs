using FashionVision.Transforms;
using static FashionVision.Tests.Transforms.TransformTestData;

namespace FashionVision.Tests.Transforms;

public class ElasticTests
{
    [Test]
    public void AlphaZeroIsTheIdentity()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(8);
        var elastic = new ElasticDistortion(alpha: 0, sigma: 4, p: 1);
        Assert.That(elastic.IsIdentity, Is.True);
        Assert.That(Run(elastic, images, labels).Images.IsSameAs(images), Is.True);

        // The kernel itself: zero displacement resamples every pixel at its own centre.
        var noise = rand(8, 2, 28, 28).mul_(2).sub_(1);
        var displacement = TransformFunctional.ElasticDisplacement(noise, alpha: 0, sigma: 4);
        Assert.That(MaxAbsDifference(TransformFunctional.DisplacementWarp(images, displacement), images), Is.LessThan(1e-5f));
    }

    [Test]
    public void UniformDisplacementOfWholePixelsIsAShift()
    {
        using var scope = NewDisposeScope();
        var images = Pattern(2, 10, 10);
        var displacement = zeros(2, 2, 10, 10);
        displacement[.., 0] = 2; // read from 2 pixels to the right: content moves left
        var warped = TransformFunctional.DisplacementWarp(images, displacement);
        Assert.That(MaxAbsDifference(warped[.., .., .., ..8], images[.., .., .., 2..]), Is.LessThan(1e-5f));
    }

    [Test]
    public void GaussianMatrixIsABandedNormalizedKernel()
    {
        using var scope = NewDisposeScope();
        var g = TransformFunctional.GaussianConvolutionMatrix(40, 2.0, ScalarType.Float64);
        Assert.That(g.IsSameAs(g.t()), Is.True, "symmetric");
        Assert.That(g[20].sum().item<double>(), Is.EqualTo(1.0).Within(1e-9), "interior rows sum to 1");
        Assert.That(g[0].sum().item<double>(), Is.LessThan(1.0), "zero padding at the border");
        Assert.That(g[20, 20 + 7].item<double>(), Is.EqualTo(0.0), "radius 3σ = 6");
        Assert.That(g[20, 21].item<double>() / g[20, 20].item<double>(), Is.EqualTo(Math.Exp(-1.0 / 8)).Within(1e-9));
        Assert.That(TransformFunctional.GaussianConvolutionMatrix(5, 0).IsSameAs(eye(5)), Is.True);
    }

    [Test]
    public void SmoothingMatchesASeparableConvolution()
    {
        using var scope = NewDisposeScope();
        var noise = rand(3, 2, 20, 20, dtype: ScalarType.Float64).mul_(2).sub_(1);
        double sigma = 1.5;
        var smoothed = TransformFunctional.ElasticDisplacement(noise, alpha: 1, sigma: sigma);
        int radius = (int)Math.Ceiling(3 * sigma);
        var offsets = arange(-radius, radius + 1, ScalarType.Float64);
        var kernel = (-(offsets * offsets) / (2 * sigma * sigma)).exp();
        kernel /= kernel.sum();
        var flat = noise.view(6, 1, 20, 20);
        var rows = nn.functional.conv2d(flat, kernel.view(1, 1, -1, 1), padding: new long[] { radius, 0 });
        var both = nn.functional.conv2d(rows, kernel.view(1, 1, 1, -1), padding: new long[] { 0, radius });
        Assert.That(MaxAbsDifference(smoothed, both.view(3, 2, 20, 20)), Is.LessThan(1e-9f));
    }

    [TestCase(4.0)]
    [TestCase(2.0)]
    public void SpectralDrawMatchesSmoothedUniformNoiseInDistribution(double sigma)
    {
        using var scope = NewDisposeScope();
        const int n = 1500;
        var exact = TransformFunctional.ElasticDisplacement(rand(n, 2, 28, 28, generator: new Generator(1)).mul_(2).sub_(1), 10, sigma);
        var coefficients = TransformFunctional.DrawElasticCoefficients(n, 28, 28, 10, sigma, new Generator(2));
        var spectral = TransformFunctional.ExpandElasticCoefficients(coefficients, 28, 28, sigma);
        TestContext.Out.WriteLine($"rank {coefficients.shape[2]}");
        Assert.That(coefficients.shape[2] * coefficients.shape[3], Is.LessThan(28 * 28 / 3), "far fewer random numbers");
        // Per-pixel spread, at the centre and at a corner (zero padding makes the border calmer), and neighbour correlation.
        foreach (var (y, x) in new[] { (14, 14), (0, 0), (3, 20) })
        {
            float exactStd = exact[.., .., y, x].std().item<float>(), spectralStd = spectral[.., .., y, x].std().item<float>();
            Assert.That(spectralStd, Is.EqualTo(exactStd).Within(0.06 * exactStd), $"std at ({y}, {x})");
        }
        float Correlation(Tensor f) =>
            (f[.., .., 14, 14] * f[.., .., 14, 17]).mean().item<float>() / f[.., .., 14, 14].square().mean().item<float>();
        Assert.That(Correlation(spectral), Is.EqualTo(Correlation(exact)).Within(0.06));
    }

    [Test]
    public void ExactAndSpectralModesBothDistortAndDescribeThemselves()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(8);
        var exact = new ElasticDistortion(34, 4, 1, exact: true);
        Assert.That(ChangedSamples(images, Run(exact, images, labels).Images), Is.All.True);
        Assert.That(exact.Describe(), Is.EqualTo("ElasticDistortion(alpha=34, sigma=4, p=1, exact=true)"));
        var unsmoothed = new ElasticDistortion(1, 0, 1);
        Assert.That(ChangedSamples(images, Run(unsmoothed, images, labels).Images), Is.All.True);
    }

    [Test]
    public void DistortsEverySelectedSampleSmoothlyAndKeepsValuesInRange()
    {
        using var scope = NewDisposeScope();
        var (images, labels) = Batch(16);
        var (result, _) = Run(new ElasticDistortion(alpha: 34, sigma: 4, p: 1), images, labels);
        Assert.That(ChangedSamples(images, result), Is.All.True);
        Assert.That(result.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(result.max().item<float>(), Is.LessThanOrEqualTo(0.9f + 1e-5f));

        // With σ = 4 the field is smooth: neighbouring displacements are strongly correlated.
        var noise = rand(16, 2, 28, 28).mul_(2).sub_(1);
        var d = TransformFunctional.ElasticDisplacement(noise, alpha: 34, sigma: 4);
        var neighbour = (d[.., .., .., 1..] - d[.., .., .., ..^1]).abs().mean().item<float>();
        Assert.That(neighbour, Is.LessThan(0.25f * d.abs().mean().item<float>()));
        Assert.That(d.abs().mean().item<float>(), Is.InRange(0.3f, 5f), "Simard's α = 34, σ = 4 moves pixels by about a pixel");
    }
}
