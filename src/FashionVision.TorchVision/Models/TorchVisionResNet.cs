using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// torchvision's ResNet (<c>torchvision.models.resnet18</c>, <c>resnet50</c>, … from the TorchVision package), as an
/// <see cref="FashionVision.Models.ImageClassifier"/>: TorchVision builds the network and this class adopts its modules under
/// their own names (<c>conv1</c>, <c>bn1</c>, <c>layer1</c> … <c>layer4</c>, <c>fc</c>), so the state dict is torchvision's.
/// </summary>
/// <remarks>
/// Features: conv1 7×7/2 → bn1 → ReLU → max-pool 3×3/2 → layer1 … layer4 (BasicBlock for 18/34, Bottleneck for 50+). Embedding:
/// global average pooling, then a dropout (0 by default, as in torchvision). Classifier: <c>fc</c>. A model for other than three
/// input channels gets a fresh <c>conv1</c> of that width (Kaiming normal, fan-out, as torchvision initialises it).
/// <para>Bottleneck blocks (ResNet-50 and deeper) run through <see cref="Bottleneck"/>, which keeps TorchVision's modules
/// and names but computes the strided 1×1 shortcut as a 1×1 convolution of the input subsampled by two: the same numbers,
/// and it avoids a libtorch 2.10 CPU kernel that dies with SIGFPE (an integer division by zero, the process is killed) when
/// it computes the input gradient of a 1×1 stride-2 convolution from 512 to 1024 channels (ResNet-50's layer3 shortcut) on
/// an AVX-512 machine.</para>
/// </remarks>
public sealed class TorchVisionResNet : TorchVisionClassifier
{
    private static readonly string[] FeatureNames = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"];

    /// <summary>Builds a torchvision ResNet.</summary>
    /// <param name="architecture"><c>resnet18</c>, <c>resnet34</c>, <c>resnet50</c>, <c>resnet101</c> or <c>resnet152</c>.</param>
    /// <param name="inputChannels">Channels of the input (3 for torchvision's weights).</param>
    /// <param name="numClasses">The number of classes.</param>
    /// <param name="dropRate">Dropout in front of <c>fc</c> (torchvision has none: 0).</param>
    /// <exception cref="ArgumentException">Unknown architecture.</exception>
    public TorchVisionResNet(string architecture, int inputChannels = 3, int numClasses = 1000, double dropRate = 0.0)
        : base(nameof(TorchVisionResNet), architecture, inputChannels, numClasses)
    {
        var network = architecture switch
        {
            "resnet18" => torchvision.models.resnet18(numClasses),
            "resnet34" => torchvision.models.resnet34(numClasses),
            "resnet50" => torchvision.models.resnet50(numClasses),
            "resnet101" => torchvision.models.resnet101(numClasses),
            "resnet152" => torchvision.models.resnet152(numClasses),
            _ => throw new ArgumentException($"Unknown torchvision ResNet '{architecture}': resnet18, resnet34, resnet50, resnet101 or resnet152.", nameof(architecture)),
        };
        var children = network.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
        if (inputChannels != 3)
        {
            var stem = nn.Conv2d(inputChannels, 64, 7, stride: 2, padding: 3, bias: false);
            using (no_grad())
                nn.init.kaiming_normal_(stem.weight, mode: nn.init.FanInOut.FanOut);
            children["conv1"] = stem;
        }
        foreach (var layer in FeatureNames.Where(n => n.StartsWith("layer", StringComparison.Ordinal)))
        {
            var blocks = children[layer].named_children().ToList();
            if (blocks.Any(b => b.module.named_children().Any(c => c.name == "conv3")))
                children[layer] = nn.Sequential(blocks.Select(b => (b.name, (nn.Module<Tensor, Tensor>)new Bottleneck(b.module))));
        }
        SetFeatureStages(FeatureNames.Select(name => (name, children[name])).ToArray());
        SetLinearHead("fc", (Linear)children["fc"], dropRate);
    }

    /// <inheritdoc />
    protected override Linear CreateClassifier(long inFeatures, int numClasses) => nn.Linear(inFeatures, numClasses);

    /// <summary>
    /// TorchVision's ResNet bottleneck (1×1 reduce, 3×3, 1×1 expand, each with BatchNorm; shortcut 1×1 conv + BatchNorm when
    /// the shape changes; sum, ReLU), holding TorchVision's own modules under their names (<c>conv1</c> … <c>bn3</c>,
    /// <c>downsample.0</c>, <c>downsample.1</c>), with the strided 1×1 shortcut computed on the input subsampled by its stride.
    /// </summary>
    public sealed class Bottleneck : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module<Tensor, Tensor> _conv1, _bn1, _conv2, _bn2, _conv3, _bn3;
        private readonly nn.Module<Tensor, Tensor>? _downsample;
        private readonly long _shortcutStride = 1;

        /// <summary>The three convolutions with their BatchNorm layers, in order.</summary>
        public IReadOnlyList<(nn.Module<Tensor, Tensor> Conv, nn.Module<Tensor, Tensor> Norm)> Layers => [(_conv1, _bn1), (_conv2, _bn2), (_conv3, _bn3)];

        /// <summary>The shortcut (1×1 conv and BatchNorm) when the shape changes, else null.</summary>
        public nn.Module<Tensor, Tensor>? Downsample => _downsample;

        /// <summary>The subsampling of the input before <see cref="Downsample"/> (1: none).</summary>
        public long ShortcutStride => _shortcutStride;

        /// <summary>Adopts the modules of one of TorchVision's bottleneck blocks.</summary>
        /// <param name="block">The block (its children conv1 … bn3 and, if it has one, downsample).</param>
        public Bottleneck(nn.Module block) : base(nameof(Bottleneck))
        {
            ArgumentNullException.ThrowIfNull(block);
            var children = block.named_children().ToDictionary(c => c.name, c => c.module);
            nn.Module<Tensor, Tensor> Take(string name)
            {
                var module = (nn.Module<Tensor, Tensor>)children[name];
                register_module(name, module);
                return module;
            }
            (_conv1, _bn1, _conv2, _bn2, _conv3, _bn3) = (Take("conv1"), Take("bn1"), Take("conv2"), Take("bn2"), Take("conv3"), Take("bn3"));
            if (children.ContainsKey("downsample"))
            {
                _downsample = Take("downsample");
                var shortcut = _downsample.modules().OfType<Conv2d>().Single();
                bool pointwise = shortcut.kernel_size.All(k => k == 1) && (shortcut.padding is null || shortcut.padding.All(p => p == 0));
                if (pointwise && shortcut.stride.Distinct().Count() == 1)
                {
                    _shortcutStride = shortcut.stride[0];
                    shortcut.stride = shortcut.stride.Select(_ => 1L).ToArray();
                }
            }
        }

        /// <summary>Does nothing: the constructor registers TorchVision's modules under their names (the field scan would add them again).</summary>
        protected override void RegisterComponents()
        {
        }

        /// <inheritdoc />
        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = nn.functional.relu(_bn1.call(_conv1.call(input)));
            x = nn.functional.relu(_bn2.call(_conv2.call(x)));
            x = _bn3.call(_conv3.call(x));
            var identity = input;
            if (_downsample is not null)
            {
                var shortcutInput = _shortcutStride == 1 ? input
                    : input[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(null, null, _shortcutStride), TensorIndex.Slice(null, null, _shortcutStride)];
                identity = _downsample.call(shortcutInput);
            }
            return scope.MoveToOuter(nn.functional.relu(x + identity));
        }
    }
}
