using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// torchvision's MobileNetV3 (<c>mobilenet_v3_small</c>, <c>mobilenet_v3_large</c> from the TorchVision package), as an
/// <see cref="FashionVision.Models.ImageClassifier"/> with torchvision's state-dict names: <c>features.0</c> … (inverted
/// residual blocks with Hardswish and squeeze-excitation), then <c>classifier.0</c> (linear), Hardswish, dropout and
/// <c>classifier.3</c> (the linear layer <see cref="TorchVisionClassifier.ResetClassifier"/> replaces).
/// </summary>
/// <remarks>
/// <para>TorchVision's builders take no options (1000 classes, three channels), so the last linear layer is replaced for
/// other class counts (normal(0, 0.01), zero bias, as the builder initialises it) and the stem convolution
/// (<c>features.0.0</c>) for other channel counts. The embedding is the 1024 (small) or 1280 (large) wide output of the hidden
/// layer after its dropout; the head's parameters include that hidden layer.</para>
/// <para>Known difference from PyTorch: TorchVision 0.107's squeeze-excitation uses ReLU6 between its two 1×1 convolutions
/// where torchvision (Python) uses ReLU; the parameters and names are the same, the outputs differ only where that
/// activation exceeds 6.</para>
/// </remarks>
public sealed class TorchVisionMobileNetV3 : TorchVisionClassifier
{
    private readonly Sequential features;

    /// <summary>Builds a torchvision MobileNetV3.</summary>
    /// <param name="architecture"><c>mobilenet_v3_small</c> or <c>mobilenet_v3_large</c>.</param>
    /// <param name="inputChannels">Channels of the input (3 for torchvision's weights).</param>
    /// <param name="numClasses">The number of classes.</param>
    /// <param name="dropRate">The head's dropout (torchvision: 0.2).</param>
    /// <exception cref="ArgumentException">Unknown architecture.</exception>
    public TorchVisionMobileNetV3(string architecture, int inputChannels = 3, int numClasses = 1000, double dropRate = 0.2)
        : base(nameof(TorchVisionMobileNetV3), architecture, inputChannels, numClasses)
    {
        CheckDropRate(dropRate);
        var network = architecture switch
        {
            "mobilenet_v3_small" => torchvision.models.mobilenet_v3_small(),
            "mobilenet_v3_large" => torchvision.models.mobilenet_v3_large(),
            _ => throw new ArgumentException($"Unknown torchvision MobileNetV3 '{architecture}': mobilenet_v3_small or mobilenet_v3_large.", nameof(architecture)),
        };
        var children = network.named_children().ToDictionary(c => c.name, c => c.module);
        var layers = children["features"].named_children().Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)).ToList();
        if (inputChannels != 3)
        {
            // features.0 is Conv2dNormActivation(3, 16, 3, stride 2): conv, BatchNorm, Hardswish.
            var stem = layers[0].Item2.named_children().Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)).ToList();
            var old = (Conv2d)stem[0].Item2;
            var conv = nn.Conv2d(inputChannels, old.out_channels, 3, stride: 2, padding: 1, bias: false);
            using (no_grad())
                nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut);
            stem[0] = (stem[0].name, conv);
            layers[0] = (layers[0].name, nn.Sequential(stem));
        }
        features = nn.Sequential(layers);
        SetFeatureStages(("features", features));

        var head = children["classifier"].named_children().Select(c => (nn.Module<Tensor, Tensor>)c.module).ToList();
        var hidden = (Linear)head[0];
        SetSequentialHead([hidden, nn.Hardswish(), nn.Dropout(dropRate)], CreateClassifier(hidden.out_features, numClasses));
    }

    /// <inheritdoc />
    protected override Linear CreateClassifier(long inFeatures, int numClasses)
    {
        var linear = nn.Linear(inFeatures, numClasses);
        using (no_grad())
        {
            nn.init.normal_(linear.weight, 0, 0.01);
            nn.init.zeros_(linear.bias!);
        }
        return linear;
    }
}
