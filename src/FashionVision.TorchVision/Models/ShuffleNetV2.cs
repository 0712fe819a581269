using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// ShuffleNetV2 ×1.0 (Ma et al. 2018) exactly as torchvision builds <c>shufflenet_v2_x1_0</c> (TorchVision 0.107 does not
/// ship this builder): <c>conv1</c> (3×3/2, 24, BN, ReLU), max-pool 3×3/2, <c>stage2</c> … <c>stage4</c> (4, 8 and 4
/// <see cref="ShuffleUnit"/>s, 116-232-464 channels, the first of each with stride 2), <c>conv5</c> (1×1 to 1024, BN, ReLU),
/// global average pooling, <c>fc</c>. 2,278,604 parameters for 1000 classes (torchvision's table); PyTorch's default
/// initialisation, as torchvision.
/// </summary>
public sealed class ShuffleNetV2 : TorchVisionClassifier
{
    private static readonly int[] Repeats = [4, 8, 4];
    private static readonly long[] Widths = [24, 116, 232, 464, 1024];

    private readonly Sequential conv1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential stage2;
    private readonly Sequential stage3;
    private readonly Sequential stage4;
    private readonly Sequential conv5;

    /// <summary>Builds ShuffleNetV2 ×1.0.</summary>
    /// <param name="inputChannels">Channels of the input (3 for torchvision's weights).</param>
    /// <param name="numClasses">The number of classes.</param>
    /// <param name="dropRate">Dropout in front of <c>fc</c> (torchvision has none: 0).</param>
    public ShuffleNetV2(int inputChannels = 3, int numClasses = 1000, double dropRate = 0.0)
        : base(nameof(ShuffleNetV2), "shufflenet_v2_x1_0", inputChannels, numClasses)
    {
        conv1 = nn.Sequential(nn.Conv2d(inputChannels, Widths[0], 3, stride: 2, padding: 1, bias: false), nn.BatchNorm2d(Widths[0]), nn.ReLU());
        maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
        var stages = new Sequential[3];
        long width = Widths[0];
        for (int s = 0; s < 3; s++)
        {
            long output = Widths[s + 1];
            var units = new List<nn.Module<Tensor, Tensor>> { new ShuffleUnit(width, output, 2) };
            for (int i = 1; i < Repeats[s]; i++)
                units.Add(new ShuffleUnit(output, output, 1));
            stages[s] = nn.Sequential(units);
            width = output;
        }
        (stage2, stage3, stage4) = (stages[0], stages[1], stages[2]);
        conv5 = nn.Sequential(nn.Conv2d(width, Widths[4], 1, bias: false), nn.BatchNorm2d(Widths[4]), nn.ReLU());
        SetFeatureStages(("conv1", conv1), ("maxpool", maxpool), ("stage2", stage2), ("stage3", stage3), ("stage4", stage4), ("conv5", conv5));
        SetLinearHead("fc", CreateClassifier(Widths[4], numClasses), dropRate);
    }

    /// <inheritdoc />
    protected override Linear CreateClassifier(long inFeatures, int numClasses) => nn.Linear(inFeatures, numClasses);
}
