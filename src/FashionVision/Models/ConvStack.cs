using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>Builds VGG-style stacks of conv-BN-ReLU blocks, each block ending in optional attention and a 2×2 max-pool.</summary>
internal static class ConvStack
{
    /// <summary>
    /// Builds one Sequential: for every block, for every width, Conv2d(…, 3, padding 1, no bias), BatchNorm2d, ReLU; then the
    /// attention (if any) and MaxPool2d(2).
    /// </summary>
    public static Sequential Build(long inputChannels, IReadOnlyList<long[]> blocks, AttentionKind attention)
    {
        var sequential = nn.Sequential();
        long inChannels = inputChannels;
        foreach (var block in blocks)
        {
            foreach (long outChannels in block)
            {
                sequential.append(nn.Conv2d(inChannels, outChannels, 3, padding: 1, bias: false));
                sequential.append(nn.BatchNorm2d(outChannels));
                sequential.append(nn.ReLU());
                inChannels = outChannels;
            }
            var gate = AttentionFactory.Create(attention, inChannels);
            if (gate is not null)
                sequential.append(gate);
            sequential.append(nn.MaxPool2d(2));
        }
        return sequential;
    }
}
