using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// DenseNet-BC (Huang et al., "Densely Connected Convolutional Networks", CVPR 2017) in its CIFAR form, for 28×28 inputs:
/// three dense blocks of bottleneck layers, each layer reading the concatenation of everything before it.
/// </summary>
/// <remarks>
/// Structure for depth L and growth rate k (n = (L − 4) / 6 layers per block; θ = 0.5):
/// <code>
/// Conv1                    Conv2d(C, 2k, 3, padding 1, no bias)                       2k × 28 × 28
/// Block1 → Transition1     n × DenseLayer (BN-ReLU-conv1×1 4k-BN-ReLU-conv3×3 k), then BN-ReLU-conv1×1 to θ·c, AvgPool2d(2)
/// Block2 → Transition2     the same at 14 × 14
/// Block3 → Bn → Relu       n × DenseLayer at 7 × 7, then BatchNorm2d and ReLU (the layers are pre-activation)
/// head: AvgPool → flatten → Fc       AdaptiveAvgPool2d(1), Linear(c, classes) (<see cref="GlobalPoolingClassifier"/>, no dropout)
/// </code>
/// L = 100, k = 12 (the zoo's <c>densenet-bc-100</c>) has 768,730 parameters for one input channel and 10 classes (the paper's
/// "0.8M") and about 220 M multiply-adds per 28 × 28 image, most of them in the first block at full resolution. Training
/// memory grows with the square of the layers per block (each layer keeps its concatenated input for the backward pass), so
/// it takes a smaller batch than the other zoo models. Convolutions are initialised as torchvision's DenseNet does (kaiming
/// normal, fan-in).
/// </remarks>
public sealed class DenseNet : GlobalPoolingClassifier
{
    private readonly Conv2d conv1;
    private readonly Sequential block1;
    private readonly DenseTransition transition1;
    private readonly Sequential block2;
    private readonly DenseTransition transition2;
    private readonly Sequential block3;
    private readonly BatchNorm2d bn;
    private readonly ReLU relu;

    /// <summary>Creates the network.</summary>
    /// <param name="depth">Depth L; L − 4 must be divisible by 6 (40, 100, 190 …).</param>
    /// <param name="growthRate">Growth rate k: the feature maps every layer adds (12 in the paper's L = 100 model).</param>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="dropRate">Dropout after each dense layer's 3×3 convolution (0.2 in the paper when training without augmentation).</param>
    /// <param name="compression">θ in (0, 1]: the share of channels a transition keeps (0.5 for DenseNet-BC).</param>
    public DenseNet(int depth = 100, long growthRate = 12, int inputChannels = 1, int numClasses = 10, double dropRate = 0.0,
        double compression = 0.5) : base(nameof(DenseNet), inputChannels, numClasses)
    {
        if (depth < 10 || (depth - 4) % 6 != 0)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "The depth L of DenseNet-BC must satisfy (L - 4) % 6 == 0 and L >= 10.");
        if (growthRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(growthRate), growthRate, "The growth rate must be positive.");
        if (!(compression > 0 && compression <= 1))
            throw new ArgumentOutOfRangeException(nameof(compression), compression, "The compression θ must be in (0, 1].");
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        Depth = depth;
        GrowthRate = growthRate;
        LayersPerBlock = (depth - 4) / 6;
        long channels = 2 * growthRate;
        conv1 = nn.Conv2d(inputChannels, channels, 3, padding: 1, bias: false);
        block1 = MakeBlock(ref channels, growthRate, LayersPerBlock, dropRate);
        transition1 = new DenseTransition(channels, Compressed(channels, compression));
        channels = transition1.OutChannels;
        block2 = MakeBlock(ref channels, growthRate, LayersPerBlock, dropRate);
        transition2 = new DenseTransition(channels, Compressed(channels, compression));
        channels = transition2.OutChannels;
        block3 = MakeBlock(ref channels, growthRate, LayersPerBlock, dropRate);
        bn = nn.BatchNorm2d(channels);
        relu = nn.ReLU(inplace: true);
        RegisterComponents();
        AddHead(channels, dropRate: 0);
        Initialization.HeNormal(this, nn.init.FanInOut.FanIn);
        using (no_grad())
            Classifier.bias!.zero_();
    }

    private static long Compressed(long channels, double compression) => Math.Max(1, (long)Math.Floor(channels * compression));

    private static Sequential MakeBlock(ref long channels, long growthRate, int layers, double dropRate)
    {
        var block = nn.Sequential();
        for (int i = 0; i < layers; i++)
        {
            block.append(new DenseLayer(channels, growthRate, dropRate: dropRate));
            channels += growthRate;
        }
        return block;
    }

    /// <summary>The depth L.</summary>
    public int Depth { get; }

    /// <summary>The growth rate k.</summary>
    public long GrowthRate { get; }

    /// <summary>Dense layers in each of the three blocks, (L − 4) / 6.</summary>
    public int LayersPerBlock { get; }

    /// <summary>The stem convolution (C → 2k).</summary>
    public Conv2d Conv1 => conv1;

    /// <summary>The first dense block (28 × 28).</summary>
    public Sequential Block1 => block1;

    /// <summary>The transition after the first block.</summary>
    public DenseTransition Transition1 => transition1;

    /// <summary>The second dense block (14 × 14).</summary>
    public Sequential Block2 => block2;

    /// <summary>The transition after the second block.</summary>
    public DenseTransition Transition2 => transition2;

    /// <summary>The third dense block (7 × 7).</summary>
    public Sequential Block3 => block3;

    /// <summary>The final BatchNorm.</summary>
    public BatchNorm2d Bn => bn;

    /// <summary>The final ReLU.</summary>
    public ReLU Relu => relu;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = transition1.call(block1.call(conv1.call(input)));
        x = block3.call(transition2.call(block2.call(x)));
        return scope.MoveToOuter(relu.call(bn.call(x)));
    }
}
