using FashionVision.Models;

namespace FashionVision.Tests.Models;

public class FlopCounterTests
{
    [Test]
    public void ConvolutionCostsOutputElementsTimesKernelVolume()
    {
        // Conv2d(1, 32, 3, padding 1) on 28×28: 28·28 outputs × 32 channels × (1·3·3) = 225,792 multiply-adds.
        using var conv = nn.Conv2d(1, 32, 3, padding: 1);
        Assert.That(FlopCounter.CountMultiplyAdds(conv, 1, 28, 28), Is.EqualTo(225_792));
        Assert.That(FlopCounter.CountFlops(conv, 1, 28, 28), Is.EqualTo(451_584));

        // Stride 2 without padding on 28×28: 13·13 outputs × 64 × (32·3·3).
        using var strided = nn.Conv2d(32, 64, 3, stride: 2);
        Assert.That(FlopCounter.CountMultiplyAdds(strided, 32, 28, 28), Is.EqualTo(13 * 13 * 64 * 32 * 9));

        // Depthwise: each output sees one input channel.
        using var depthwise = nn.Conv2d(32, 32, 3, padding: 1, groups: 32);
        Assert.That(FlopCounter.CountMultiplyAdds(depthwise, 32, 28, 28), Is.EqualTo(28 * 28 * 32 * 9));
    }

    [Test]
    public void LeNet5ByHand()
    {
        // conv1 28·28·6·25 = 117,600; conv2 10·10·16·150 = 240,000; fc 400·120 + 120·84 + 84·10 = 58,920 → 416,520.
        using var model = ModelZoo.Create("lenet5");
        Assert.That(FlopCounter.CountMultiplyAdds(model, 1, 28, 28), Is.EqualTo(416_520));
        Assert.That(ModelZoo.Describe("lenet5").FlopsPerImage, Is.EqualTo(833_040));
    }

    [Test]
    public void TorchvisionResNet18MatchesItsPublishedCost()
    {
        // torchvision lists resnet18 at 1.81 G multiply-adds ("GFLOPS 1.81") for 224×224.
        var info = ModelZoo.Describe("resnet18-imagenet");
        Assert.That(info.MultiplyAddsPerImage, Is.EqualTo(1.814e9).Within(0.5).Percent);
    }

    [Test]
    public void CountingRestoresTheTrainingFlagAndRemovesItsHooks()
    {
        using var model = ModelZoo.Create("small-cnn");
        model.train();
        long first = FlopCounter.CountFlops(model, 1, 28, 28);
        Assert.That(model.training, Is.True);
        Assert.That(FlopCounter.CountFlops(model, 1, 28, 28), Is.EqualTo(first), "hooks of the first count are gone");
        Assert.That(FlopCounter.CountFlops(model, 1, 56, 56), Is.GreaterThan(3 * first), "the cost follows the input size");
        Assert.Throws<ArgumentOutOfRangeException>(() => FlopCounter.CountFlops(model, 1, 0, 28));
    }
}
