using FashionVision.Models;

namespace FashionVision.Tests.Models;

/// <summary>
/// Exact parameter counts. Published figures where they exist (torchvision's resnet18, the CIFAR ResNet-18, LeNet-5, WRN);
/// for our own layouts the count derived by hand from the architecture definition, with the derivation.
/// </summary>
public class ParameterCountTests
{
    private static long Count(string name, ModelOptions? options = null)
    {
        using var model = ModelZoo.Create(name, options);
        return model.parameters().Sum(p => p.numel());
    }

    [Test]
    public void TorchvisionResNet18HasItsPublishedCount()
    {
        // torchvision.models.resnet18() (1000 classes): 11,689,512 parameters.
        Assert.That(Count("resnet18-imagenet"), Is.EqualTo(11_689_512));
    }

    [Test]
    public void NativeResNet18()
    {
        // The CIFAR-style ResNet-18 (3×3 stem, 3 channels, 10 classes) is the often-quoted 11,173,962. From torchvision's count:
        // 11,689,512 − conv1 7×7×3×64 (9,408) + 3×3×3×64 (1,728) − fc 512×1000+1000 (513,000) + 512×10+10 (5,130) = 11,173,962.
        Assert.That(Count("resnet18", new ModelOptions { InputChannels = 3 }), Is.EqualTo(11_173_962));
        // One input channel: 2 × 576 fewer stem weights.
        Assert.That(Count("resnet18"), Is.EqualTo(11_172_810));
    }

    [Test]
    public void AttentionResNets()
    {
        // SE per block of C channels, hidden h = C/16, 1×1 convs with bias: C·h + h + h·C + C.
        // C=64: 580, 128: 2,184, 256: 8,464, 512: 33,312; two blocks per stage → 89,080.
        Assert.That(Count("se-resnet18"), Is.EqualTo(11_172_810 + 89_080));
        // CBAM: the same channel gate plus a spatial gate per block, conv 2×7×7 (98) + BatchNorm(1) (2) → 8 × 100 = 800.
        Assert.That(Count("cbam-resnet18"), Is.EqualTo(11_172_810 + 89_080 + 800));
    }

    [Test]
    public void LeNet5HasTheClassicModernCount()
    {
        // conv 1→6 5×5: 156; conv 6→16 5×5: 2,416; fc 400→120: 48,120; 120→84: 10,164; 84→10: 850. Total 61,706.
        Assert.That(Count("lenet5"), Is.EqualTo(61_706));
    }

    [Test]
    public void WideResNets()
    {
        // WRN-28-10 with 3 input channels and 10 classes (CIFAR-10), as in the paper's "36.5M": stem 3·16·9 = 432;
        // stage 1 (16→160, 4 blocks): 256,352 + 3 × 461,440 = 1,640,672; stage 2 (160→320): 1,434,560 + 3 × 1,844,480 =
        // 6,968,000; stage 3 (320→640): 5,736,320 + 3 × 7,375,360 = 27,862,400; final BN 1,280; fc 6,410 → 36,479,194.
        Assert.That(Count("wrn-28-10", new ModelOptions { InputChannels = 3 }), Is.EqualTo(36_479_194));
        // WRN-16-4 ("2.7M"): 432 + 121,248 + 525,184 + 2,098,944 + 512 + 2,570 = 2,748,890.
        Assert.That(Count("wrn-16-4", new ModelOptions { InputChannels = 3 }), Is.EqualTo(2_748_890));
        // One input channel: 2 × 16 × 9 = 288 fewer stem weights.
        Assert.That(Count("wrn-16-4"), Is.EqualTo(2_748_890 - 288));
    }

    [Test]
    public void SmallCnn()
    {
        // convs without bias + BatchNorm: 288 + 64, 9,216 + 64, 18,432 + 128, 36,864 + 128; fc 64→128: 8,320; 128→10: 1,290.
        Assert.That(Count("small-cnn"), Is.EqualTo(74_794));
    }

    [Test]
    public void VggCnn()
    {
        // 576 + 128, 36,864 + 128, 73,728 + 256, 147,456 + 256, 294,912 + 512, 589,824 + 512; fc 256→10: 2,570.
        Assert.That(Count("vgg-cnn"), Is.EqualTo(1_147_722));
    }

    [Test]
    public void MobileNet()
    {
        // stem 288 + 64; blocks (dw in·9 + BN 2·in + pw in·out + BN 2·out): 2,528, 9,152, 18,048, 34,688, 68,864, 134,912,
        // 268,800; fc 512→10: 5,130. Total 542,474.
        Assert.That(Count("mobilenet"), Is.EqualTo(542_474));
        // A depthwise-separable block needs far fewer weights than the full 3×3 convolution it replaces.
        using var block = new DepthwiseSeparableConv(256, 512);
        Assert.That(block.parameters().Sum(p => p.numel()), Is.EqualTo(2_304 + 512 + 131_072 + 1_024));
    }

    [Test]
    public void DenseNetBc100()
    {
        // L = 100, k = 12: 16 bottleneck layers per block. A layer reading c channels has BN(c) 2c + conv1×1 c·48 + BN(48) 96 +
        // conv3×3 48·12·9 = 5,184, i.e. 50c + 5,280; a block from c0 sums to 800·c0 + 16·5,280 + 50·12·(0 + 1 + … + 15) = 800·c0 + 156,480.
        // stem 1·24·9 = 216; block1 (c0 24 → 216) 175,680; transition1 BN(216) 432 + 216·108 = 23,760; block2 (108 → 300) 242,880;
        // transition2 BN(300) 600 + 300·150 = 45,600; block3 (150 → 342) 276,480; final BN(342) 684; fc 342·10 + 10 = 3,430.
        Assert.That(Count("densenet-bc-100"), Is.EqualTo(768_730));
        // Three input channels (CIFAR), the paper's "0.8M" (Huang et al. 2017, Table 2): 2 × 24 × 9 more stem weights.
        Assert.That(Count("densenet-bc-100", new ModelOptions { InputChannels = 3 }), Is.EqualTo(768_730 + 432));
    }

    [Test]
    public void SmallVit()
    {
        // D = 96, 6 blocks, MLP 192, 49 tokens. Patch embedding 16·96 + 96 = 1,632; positions 49·96 = 4,704; per block: two
        // LayerNorms 2·2·96 = 384, q/k/v/projection 4·(96² + 96) = 37,248, MLP 96·192 + 192 + 192·96 + 96 = 37,152 → 74,784;
        // final LayerNorm 192; fc 96·10 + 10 = 970. Total 1,632 + 4,704 + 6·74,784 + 192 + 970 = 456,202.
        Assert.That(Count("small-vit"), Is.EqualTo(456_202));
        // Width 0.5: D = 48, MLP 96.
        long d = 48, mlp = 96;
        long block = 4 * d + 4 * (d * d + d) + (d * mlp + mlp) + (mlp * d + d);
        Assert.That(Count("small-vit", new ModelOptions { Width = 0.5 }), Is.EqualTo(16 * d + d + 49 * d + 6 * block + 2 * d + d * 10 + 10));
    }

    [Test]
    public void FastCnnCount()
    {
        // w = 24, every conv bias-free + BN (2·out): stem 1·24·9 + 48 = 264; widen1 24·48·9 + 96 = 10,464; res1 48·48·9 + 96
        // = 20,832; widen2 48·96·9 + 192 = 41,664; res2 96·96·9 + 192 = 83,136; head (avg+max = 192) → 10: 1,930.
        Assert.That(Count("fast-cnn"), Is.EqualTo(158_290));
        Assert.That(Count("fast-cnn", new ModelOptions { Width = 0.5 }), Is.EqualTo(12 * 9 + 24 + 12 * 24 * 9 + 48 + 24 * 24 * 9 + 48 + 24 * 48 * 9 + 96 + 48 * 48 * 9 + 96 + 96 * 10 + 10));
    }
}
