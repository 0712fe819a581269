using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// EfficientNet's mobile inverted bottleneck, as torchvision writes it (<c>torchvision.models.efficientnet.MBConv</c>), built
/// from TorchVision's ops: <c>block</c> = [1×1 expand conv-BN-SiLU] → k×k depthwise conv-BN-SiLU → squeeze-excitation
/// (SiLU, sigmoid; squeeze width input/4) → 1×1 project conv-BN; with a residual through stochastic depth (row mode) when
/// the stride is 1 and the widths match.
/// </summary>
public sealed class MBConv : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> block;
    private readonly torchvision.StochasticDepth stochastic_depth;

    /// <summary>Builds the block.</summary>
    /// <param name="expandRatio">The expansion of the hidden width (1 or 6 in B0).</param>
    /// <param name="kernel">The depthwise kernel size.</param>
    /// <param name="stride">The depthwise stride.</param>
    /// <param name="inputChannels">Input width.</param>
    /// <param name="outputChannels">Output width.</param>
    /// <param name="stochasticDepthProbability">Probability of dropping the residual branch of a sample in training.</param>
    public MBConv(long expandRatio, long kernel, long stride, long inputChannels, long outputChannels, double stochasticDepthProbability)
        : base(nameof(MBConv))
    {
        if (stride is < 1 or > 2)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, "The stride must be 1 or 2.");
        UsesResidual = stride == 1 && inputChannels == outputChannels;
        long expanded = EfficientNet.MakeDivisible(inputChannels * expandRatio);
        var layers = new List<nn.Module<Tensor, Tensor>>();
        if (expanded != inputChannels)
            layers.Add(torchvision.ops.Conv2dNormActivation(inputChannels, expanded, kernel_size: 1, norm_layer: BatchNorm, activation_layer: SiLU));
        layers.Add(torchvision.ops.Conv2dNormActivation(expanded, expanded, kernel_size: kernel, stride: stride, groups: expanded,
            norm_layer: BatchNorm, activation_layer: SiLU));
        long squeeze = Math.Max(1, inputChannels / 4);
        layers.Add(torchvision.ops.SqueezeExcitation(expanded, squeeze, activation: () => nn.SiLU()));
        layers.Add(torchvision.ops.Conv2dNormActivation(expanded, outputChannels, kernel_size: 1, norm_layer: BatchNorm, activation_layer: null));
        block = nn.Sequential(layers);
        stochastic_depth = torchvision.ops.StochasticDepth(stochasticDepthProbability, torchvision.StochasticDepth.Mode.Row);
        StochasticDepthProbability = stochasticDepthProbability;
        RegisterComponents();
    }

    /// <summary>The block's layers (expand, depthwise, squeeze-excitation, project), torchvision's <c>block</c>.</summary>
    public nn.Module<Tensor, Tensor> Block => block;

    /// <summary>Whether the block adds its input to its output (stride 1, equal widths).</summary>
    public bool UsesResidual { get; }

    /// <summary>The probability that a sample's residual branch is dropped in training.</summary>
    public double StochasticDepthProbability { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var result = block.call(input);
        if (UsesResidual)
            result = stochastic_depth.call(result) + input;
        return scope.MoveToOuter(result);
    }

    private static nn.Module<Tensor, Tensor> BatchNorm(long channels) => nn.BatchNorm2d(channels);

    private static nn.Module<Tensor, Tensor> SiLU(bool inplace) => nn.SiLU();
}
