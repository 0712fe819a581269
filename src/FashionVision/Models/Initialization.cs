using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>Weight initialisation and width arithmetic shared by the zoo's models.</summary>
internal static class Initialization
{
    /// <summary>
    /// He initialisation as torchvision's ResNet does it: every Conv2d gets kaiming-normal weights (fan-out by default, ReLU
    /// gain) and zero bias, every BatchNorm weight 1 and bias 0; Linear layers keep PyTorch's default (uniform ±1/√fan-in).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="mode">Which fan keeps its variance: fan-out (ResNet, the default) or fan-in (torchvision's DenseNet, whose
    /// wide 1×1 bottlenecks would otherwise multiply the activations' scale layer after layer).</param>
    public static void HeNormal(nn.Module model, nn.init.FanInOut mode = nn.init.FanInOut.FanOut)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: mode, nonlinearity: nn.init.NonlinearityType.ReLU);
                    if (conv.bias is not null)
                        conv.bias.zero_();
                    break;
                case BatchNorm2d bn:
                    bn.weight?.fill_(1.0);
                    bn.bias?.zero_();
                    break;
            }
        }
    }

    /// <summary>Scales a base channel count by a width multiplier, rounding to the nearest integer and at least 1.</summary>
    public static long Scale(long channels, double width) => Math.Max(1, (long)Math.Round(channels * width));

    /// <summary>Checks a width multiplier.</summary>
    public static double CheckWidth(double width, string paramName)
    {
        if (!(width > 0 && width <= 64))
            throw new ArgumentOutOfRangeException(paramName, width, "The width multiplier must be in (0, 64].");
        return width;
    }

    /// <summary>Checks a block's geometry: positive input and output channels and a positive stride.</summary>
    /// <param name="inChannels">Channels of the input.</param>
    /// <param name="outChannels">Channels of the output.</param>
    /// <param name="stride">The stride.</param>
    /// <param name="outChannelsName">The parameter name of <paramref name="outChannels"/> in the caller.</param>
    public static void CheckBlock(long inChannels, long outChannels, long stride, string outChannelsName = "outChannels")
    {
        if (inChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "Channels must be positive.");
        if (outChannels <= 0)
            throw new ArgumentOutOfRangeException(outChannelsName, outChannels, "Channels must be positive.");
        if (stride <= 0)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, "The stride must be positive.");
    }

    /// <summary>Checks a dropout probability.</summary>
    public static double CheckDropRate(double dropRate, string paramName)
    {
        if (!(dropRate >= 0 && dropRate < 1))
            throw new ArgumentOutOfRangeException(paramName, dropRate, "The drop rate must be in [0, 1).");
        return dropRate;
    }

    /// <summary>A new Linear layer on the same device and dtype as <paramref name="like"/>.</summary>
    public static Linear LinearLike(Linear like, long outFeatures) =>
        nn.Linear(like.in_features, outFeatures, hasBias: true, device: like.weight.device, dtype: like.weight.dtype);
}
