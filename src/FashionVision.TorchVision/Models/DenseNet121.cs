using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Models;

/// <summary>
/// DenseNet-121 (Huang et al. 2017) exactly as torchvision builds <c>densenet121</c> (TorchVision 0.107 does not ship this
/// builder), with its state-dict names: <c>features.conv0</c> (7×7/2, 64), <c>norm0</c>, <c>pool0</c> (max 3×3/2), four dense
/// blocks <c>features.denseblock1</c> … <c>denseblock4</c> of 6, 12, 24 and 16 bottleneck layers (growth 32, bottleneck 4×32),
/// <c>features.transition1</c> … <c>transition3</c> (BN-ReLU-1×1 conv halving the channels, 2×2 average pooling),
/// <c>features.norm5</c>, then ReLU, global average pooling and <c>classifier</c> (1024 → classes).
/// </summary>
/// <remarks>
/// 7,978,856 parameters for 1000 classes (torchvision's table). Initialisation as torchvision: convolutions Kaiming normal
/// (fan-in), BatchNorm ones/zeros, the classifier's bias zero. The core's <c>densenet-bc-100</c> is the CIFAR-style network
/// of the same paper, with other names; this one loads torchvision's weights.
/// </remarks>
public sealed class DenseNet121 : TorchVisionClassifier
{
    private const long Growth = 32;
    private const long BottleneckWidth = 4;
    private static readonly int[] BlockLayers = [6, 12, 24, 16];

    private readonly Sequential features;

    /// <summary>Builds DenseNet-121.</summary>
    /// <param name="inputChannels">Channels of the input (3 for torchvision's weights).</param>
    /// <param name="numClasses">The number of classes.</param>
    /// <param name="dropRate">Dropout in front of the classifier (torchvision has none: 0).</param>
    public DenseNet121(int inputChannels = 3, int numClasses = 1000, double dropRate = 0.0)
        : base(nameof(DenseNet121), "densenet121", inputChannels, numClasses)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>
        {
            ("conv0", nn.Conv2d(inputChannels, 64, 7, stride: 2, padding: 3, bias: false)),
            ("norm0", nn.BatchNorm2d(64)),
            ("relu0", nn.ReLU()),
            ("pool0", nn.MaxPool2d(3, stride: 2, padding: 1)),
        };
        long channels = 64;
        for (int b = 0; b < BlockLayers.Length; b++)
        {
            layers.Add(($"denseblock{b + 1}", new DenseBlock(BlockLayers[b], channels, Growth, BottleneckWidth)));
            channels += BlockLayers[b] * Growth;
            if (b == BlockLayers.Length - 1)
                break;
            layers.Add(($"transition{b + 1}", nn.Sequential(
                ("norm", nn.BatchNorm2d(channels)),
                ("relu", nn.ReLU()),
                ("conv", nn.Conv2d(channels, channels / 2, 1, bias: false)),
                ("pool", nn.AvgPool2d(2, stride: 2)))));
            channels /= 2;
        }
        layers.Add(("norm5", nn.BatchNorm2d(channels)));
        features = nn.Sequential(layers);
        SetFeatureStages(("features", features));
        using (no_grad())
        {
            foreach (var (_, module) in named_modules())
            {
                if (module is Conv2d conv)
                    nn.init.kaiming_normal_(conv.weight);
            }
        }
        SetLinearHead("classifier", CreateClassifier(channels, numClasses), dropRate);
    }

    /// <summary>torchvision's head applies ReLU to <c>norm5</c>'s output before pooling.</summary>
    public override bool ActivatesBeforePooling => true;

    /// <inheritdoc />
    protected override Linear CreateClassifier(long inFeatures, int numClasses)
    {
        var linear = nn.Linear(inFeatures, numClasses);
        using (no_grad())
            nn.init.zeros_(linear.bias!);
        return linear;
    }

    /// <summary>torchvision's <c>_DenseBlock</c>: layers <c>denselayer1</c> …, each reading the concatenation of all before it.</summary>
    internal sealed class DenseBlock : nn.Module<Tensor, Tensor>
    {
        private readonly DenseBottleneck[] _layers;

        public IReadOnlyList<DenseBottleneck> Layers => _layers;

        public DenseBlock(int count, long inputChannels, long growth, long bottleneckWidth) : base(nameof(DenseBlock))
        {
            _layers = Enumerable.Range(0, count).Select(i => new DenseBottleneck(inputChannels + i * growth, growth, bottleneckWidth)).ToArray();
            for (int i = 0; i < count; i++)
                register_module($"denselayer{i + 1}", _layers[i]);
        }

        // The layers are registered by name above; the field scan would add the array's layers again.
        protected override void RegisterComponents()
        {
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var features = new List<Tensor> { input };
            foreach (var layer in _layers)
                features.Add(layer.call(cat(features, 1)));
            return scope.MoveToOuter(cat(features, 1));
        }
    }

    /// <summary>torchvision's <c>_DenseLayer</c>: norm1-relu1-conv1 (1×1, 4k) then norm2-relu2-conv2 (3×3, k); returns the k new channels.</summary>
    internal sealed class DenseBottleneck : nn.Module<Tensor, Tensor>
    {
        private readonly BatchNorm2d norm1;
        private readonly ReLU relu1;
        private readonly Conv2d conv1;
        private readonly BatchNorm2d norm2;
        private readonly ReLU relu2;
        private readonly Conv2d conv2;

        public DenseBottleneck(long inputChannels, long growth, long bottleneckWidth) : base(nameof(DenseBottleneck))
        {
            norm1 = nn.BatchNorm2d(inputChannels);
            relu1 = nn.ReLU();
            conv1 = nn.Conv2d(inputChannels, bottleneckWidth * growth, 1, bias: false);
            norm2 = nn.BatchNorm2d(bottleneckWidth * growth);
            relu2 = nn.ReLU();
            conv2 = nn.Conv2d(bottleneckWidth * growth, growth, 3, padding: 1, bias: false);
            RegisterComponents();
        }

        public (BatchNorm2d Norm1, Conv2d Conv1, BatchNorm2d Norm2, Conv2d Conv2) Parts => (norm1, conv1, norm2, conv2);

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var bottleneck = conv1.call(relu1.call(norm1.call(input)));
            return scope.MoveToOuter(conv2.call(relu2.call(norm2.call(bottleneck))));
        }
    }
}
