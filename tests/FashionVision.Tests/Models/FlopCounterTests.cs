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
    public void DenseNetBc100ByHand()
    {
        // Stem 28²·24·9 = 169,344. A bottleneck layer reading c channels at S×S: S²·48·c (1×1) + S²·12·48·9 = S²·5,184 (3×3).
        // Block 1 (S = 28, c = 24, 36, …, 204): 784·(48·(16·24 + 12·120) + 16·5,184) = 133,668,864; transition 1: 784·216·108 =
        // 18,289,152. Block 2 (S = 14, c from 108): 196·(48·3,168 + 82,944) = 46,061,568; transition 2: 196·300·150 = 8,820,000.
        // Block 3 (S = 7, c from 150): 49·(48·3,840 + 82,944) = 13,095,936. Head 342·10 = 3,420. Total 220,108,284.
        Assert.That(ModelZoo.Describe("densenet-bc-100").MultiplyAddsPerImage, Is.EqualTo(220_108_284));
    }

    [Test]
    public void SmallVitCountsTheAttentionProducts()
    {
        // T = 49 tokens of D = 96. Patch embedding 49·96·16 = 75,264. Per block: q, k, v and the projection 4·49·96² = 1,806,336;
        // the attention products q·kᵀ and a·v 2·49²·96 = 460,992 (reported by MultiHeadSelfAttention); the MLP
        // 2·49·96·192 = 1,806,336 → 4,073,664. Six blocks 24,441,984; head 96·10 = 960. Total 24,518,208.
        Assert.That(ModelZoo.Describe("small-vit").MultiplyAddsPerImage, Is.EqualTo(24_518_208));
        using var attention = new MultiHeadSelfAttention(96, 4);
        long withProducts = FlopCounter.CountMultiplyAdds(new TokenWrapper(attention), 1, 49, 96);
        Assert.That(withProducts, Is.EqualTo(4 * 49 * 96 * 96 + 2 * 49 * 49 * 96));
    }

    /// <summary>Feeds the counter's 1×C×H×W probe to a token module as 1×H×W tokens (C = 1), so the attention alone can be counted.</summary>
    private sealed class TokenWrapper : nn.Module<Tensor, Tensor>
    {
        private readonly MultiHeadSelfAttention inner;

        public TokenWrapper(MultiHeadSelfAttention inner) : base("TokenWrapper")
        {
            this.inner = inner;
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => inner.call(input.squeeze(1));
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
