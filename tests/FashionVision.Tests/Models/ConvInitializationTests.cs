using FashionVision.Models;

namespace FashionVision.Tests.Models;

public class ConvInitializationTests
{
    // Four 1×2 images whose patches (the whole image, for a 1×2 kernel) have covariance diag(2, 0.5) exactly.
    private static Tensor DiagonalPatches()
    {
        float a = MathF.Sqrt(2), b = MathF.Sqrt(0.5f);
        return tensor(new[] { a, b, a, -b, -a, b, -a, -b }, new long[] { 4, 1, 1, 2 });
    }

    [Test]
    public void WhiteningFiltersAreTheScaledEigenvectorsInPlusMinusPairs()
    {
        using var conv = nn.Conv2d(1, 4, (1, 2), bias: true);
        using var images = DiagonalPatches();
        ConvInitialization.Whiten(conv, images, epsilon: 1e-9);
        var w = conv.weight.detach().view(4, 2).data<float>().ToArray();
        // Largest eigenvalue 2 first: ±(1/√2, 0); then eigenvalue 0.5: ±(0, √2). Eigenvectors carry an arbitrary sign.
        Assert.That(Math.Abs(w[0]), Is.EqualTo(1 / Math.Sqrt(2)).Within(1e-5));
        Assert.That(w[1], Is.EqualTo(0).Within(1e-6));
        Assert.That(w[2], Is.EqualTo(0).Within(1e-6));
        Assert.That(Math.Abs(w[3]), Is.EqualTo(Math.Sqrt(2)).Within(1e-5));
        for (int i = 0; i < 4; i++)
            Assert.That(w[4 + i], Is.EqualTo(-w[i]).Within(1e-7), "the second half mirrors the first");
        Assert.That(conv.bias!.detach().abs().max().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void WhitenedResponsesAreDecorrelatedWithUnitVariance()
    {
        // Smooth random images: neighbouring pixels are strongly correlated.
        manual_seed(3);
        using var raw = randn(64, 1, 12, 12);
        using var images = nn.functional.avg_pool2d(nn.functional.pad(raw, new long[] { 1, 1, 1, 1 }, PaddingModes.Replicate), 3, 1);
        using var conv = nn.Conv2d(1, 18, 3, padding: 1, bias: false);
        ConvInitialization.Whiten(conv, images, epsilon: 1e-6);
        using var responses = nn.functional.conv2d(images, conv.weight.narrow(0, 0, 9)); // the nine "+" filters, valid patches
        using var flat = responses.permute(0, 2, 3, 1).reshape(-1, 9).to_type(ScalarType.Float64);
        using var covariance = flat.t().matmul(flat).div(flat.shape[0]);
        using var error = (covariance - eye(9, dtype: ScalarType.Float64)).abs().max();
        Assert.That(error.item<double>(), Is.LessThan(1e-3));
    }

    [Test]
    public void WithFewerFiltersTheLeastVariantDirectionsAreLeftOutAndExtraFiltersKeepTheirWeights()
    {
        using var images = DiagonalPatches();
        using var narrow = nn.Conv2d(1, 2, (1, 2), bias: false);
        ConvInitialization.Whiten(narrow, images, epsilon: 1e-9);
        var w = narrow.weight.detach().view(2, 2).data<float>().ToArray();
        Assert.That(Math.Abs(w[0]), Is.EqualTo(1 / Math.Sqrt(2)).Within(1e-5), "only the largest direction fits");
        Assert.That(w[2], Is.EqualTo(-w[0]).Within(1e-7));

        manual_seed(1);
        using var wide = nn.Conv2d(1, 6, (1, 2), bias: false);
        using var before = wide.weight.detach().clone();
        ConvInitialization.Whiten(wide, images, epsilon: 1e-9, freeze: true);
        Assert.That(wide.weight.detach().narrow(0, 4, 2).allclose(before.narrow(0, 4, 2), rtol: 0, atol: 0), Is.True, "filters beyond 2D keep their initialisation");
        Assert.That(wide.weight.requires_grad, Is.False, "freeze stops the weight from training");
    }

    [Test]
    public void WhiteningRejectsImagesThatDoNotFit()
    {
        using var conv = nn.Conv2d(3, 8, 3);
        using var gray = zeros(2, 1, 8, 8);
        Assert.Throws<ArgumentException>(() => ConvInitialization.Whiten(conv, gray));
        using var tiny = zeros(2, 3, 2, 2);
        Assert.Throws<ArgumentException>(() => ConvInitialization.Whiten(conv, tiny));
    }

    [Test]
    public void DiracMakesAConvolutionAPassThrough()
    {
        using var conv = nn.Conv2d(3, 4, 3, padding: 1, bias: true);
        ConvInitialization.Dirac(conv);
        using var x = randn(2, 3, 5, 5);
        using var y = conv.call(x);
        Assert.That(y.narrow(1, 0, 3).allclose(x), Is.True);
        Assert.That(y.narrow(1, 3, 1).abs().max().item<float>(), Is.EqualTo(0f));
    }

    [Test]
    public void DiracNeedsAnOddKernel()
    {
        using var conv = nn.Conv2d(2, 2, 2);
        Assert.Throws<ArgumentException>(() => ConvInitialization.Dirac(conv));
    }
}
