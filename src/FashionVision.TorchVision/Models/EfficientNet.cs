using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// EfficientNet-B0 (Tan &amp; Le 2019) exactly as torchvision builds <c>efficientnet_b0</c>, from TorchVision's ops
/// (<c>Conv2dNormActivation</c>, <c>SqueezeExcitation</c>, <c>StochasticDepth</c>): TorchVision 0.107 ships the ops but not
/// this builder. State-dict names are torchvision's: <c>features.0</c> (stem 3×3/2, 32, SiLU), <c>features.1</c> …
/// <c>features.7</c> (stages of <see cref="MBConv"/> blocks), <c>features.8</c> (1×1 to 1280, SiLU), <c>classifier.1</c>.
/// </summary>
/// <remarks>
/// Stages (expand, kernel, stride, in, out, blocks): (1,3,1,32,16,1), (6,3,2,16,24,2), (6,5,2,24,40,2), (6,3,2,40,80,3),
/// (6,5,1,80,112,3), (6,5,2,112,192,4), (6,3,1,192,320,1); stochastic depth grows linearly from 0 to 0.2 over the 16 blocks;
/// the head is dropout 0.2 and a linear layer. 5,288,548 parameters for 1000 classes (torchvision's table). Initialisation as
/// torchvision: convolutions Kaiming normal (fan-out), BatchNorm ones/zeros, the linear layer uniform ±1/√classes.
/// </remarks>
public sealed class EfficientNet : TorchVisionClassifier
{
    private static readonly (long Expand, long Kernel, long Stride, long In, long Out, int Blocks)[] B0Stages =
    [
        (1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1),
    ];

    private readonly Sequential features;

    /// <summary>Builds EfficientNet-B0.</summary>
    /// <param name="inputChannels">Channels of the input (3 for torchvision's weights).</param>
    /// <param name="numClasses">The number of classes.</param>
    /// <param name="dropRate">The head's dropout (torchvision: 0.2).</param>
    /// <param name="stochasticDepthProbability">The stochastic depth of the last block (torchvision: 0.2).</param>
    public EfficientNet(int inputChannels = 3, int numClasses = 1000, double dropRate = 0.2, double stochasticDepthProbability = 0.2)
        : base(nameof(EfficientNet), "efficientnet_b0", inputChannels, numClasses)
    {
        CheckDropRate(dropRate);
        var layers = new List<nn.Module<Tensor, Tensor>>
        {
            torchvision.ops.Conv2dNormActivation(inputChannels, 32, kernel_size: 3, stride: 2,
                norm_layer: c => nn.BatchNorm2d(c), activation_layer: _ => nn.SiLU()),
        };
        int total = B0Stages.Sum(s => s.Blocks), index = 0;
        foreach (var stage in B0Stages)
        {
            var blocks = new List<nn.Module<Tensor, Tensor>>();
            for (int i = 0; i < stage.Blocks; i++, index++)
            {
                double probability = stochasticDepthProbability * index / total;
                blocks.Add(new MBConv(stage.Expand, stage.Kernel, i == 0 ? stage.Stride : 1, i == 0 ? stage.In : stage.Out, stage.Out, probability));
            }
            layers.Add(nn.Sequential(blocks));
        }
        layers.Add(torchvision.ops.Conv2dNormActivation(320, 1280, kernel_size: 1, norm_layer: c => nn.BatchNorm2d(c), activation_layer: _ => nn.SiLU()));
        features = nn.Sequential(layers);
        SetFeatureStages(("features", features));
        InitializeConvolutionsFanOut(this);
        SetSequentialHead([nn.Dropout(dropRate)], CreateClassifier(1280, numClasses));
    }

    /// <summary>torchvision's <c>_make_divisible(v, 8)</c>: the nearest multiple of 8, at least 8, never 10% below v.</summary>
    /// <param name="value">A channel count.</param>
    public static long MakeDivisible(double value)
    {
        const long divisor = 8;
        long result = Math.Max(divisor, (long)(value + divisor / 2.0) / divisor * divisor);
        return result < 0.9 * value ? result + divisor : result;
    }

    /// <inheritdoc />
    protected override Linear CreateClassifier(long inFeatures, int numClasses)
    {
        var linear = nn.Linear(inFeatures, numClasses);
        double range = 1.0 / Math.Sqrt(numClasses);
        using (no_grad())
        {
            nn.init.uniform_(linear.weight, -range, range);
            nn.init.zeros_(linear.bias!);
        }
        return linear;
    }
}
