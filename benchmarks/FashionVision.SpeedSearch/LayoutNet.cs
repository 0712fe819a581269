using FashionVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.SpeedSearch;

/// <summary>
/// A network described by a layout string, for the architecture search around FastCnn: tokens joined by '-', each a kind
/// and an optional width. <c>sN</c> conv + max-pool (pooled before BN/ReLU, as FastCnn's stem), <c>cN</c> conv,
/// <c>rN</c> residual conv, <c>RN</c> residual pair of convs, <c>p</c> max-pool, <c>SN</c> stride-2 3×3 conv,
/// <c>PN</c> 2×2/2 patch conv, <c>QN</c> 4×4/2 conv. Head: average + max pooling, dropout, linear. E.g. FastCnn(24) is
/// <c>s24-c48-r48-p-c96-r96</c>.
/// </summary>
public sealed class LayoutNet : ImageClassifier
{
    private readonly List<(char Kind, Sequential Block)> _blocks = new();
    private readonly ModuleList<Sequential> blocks;
    private readonly Dropout dropout;
    private readonly Linear head;

    public LayoutNet(string layout, int numClasses = 10, double dropRate = 0.1) : base(nameof(LayoutNet), 1, numClasses)
    {
        long channels = 1;
        blocks = new ModuleList<Sequential>();
        foreach (var token in layout.Split('-'))
        {
            char kind = token[0];
            long width = token.Length > 1 ? long.Parse(token[1..]) : channels;
            Sequential block = kind switch
            {
                's' => nn.Sequential(nn.Conv2d(channels, width, 3, padding: 1, bias: false), nn.MaxPool2d(2), nn.BatchNorm2d(width), nn.ReLU(inplace: true)),
                'c' or 'r' => Conv(channels, width),
                'R' => nn.Sequential(Conv(channels, width), Conv(width, width)),
                'p' => nn.Sequential(nn.MaxPool2d(2)),
                'S' => nn.Sequential(nn.Conv2d(channels, width, 3, stride: 2, padding: 1, bias: false), nn.BatchNorm2d(width), nn.ReLU(inplace: true)),
                'P' => nn.Sequential(nn.Conv2d(channels, width, 2, stride: 2, bias: false), nn.BatchNorm2d(width), nn.ReLU(inplace: true)),
                'Q' => nn.Sequential(nn.Conv2d(channels, width, 4, stride: 2, padding: 1, bias: false), nn.BatchNorm2d(width), nn.ReLU(inplace: true)),
                _ => throw new ArgumentException($"Unknown layout token '{token}'.", nameof(layout)),
            };
            if (kind != 'p')
                channels = width;
            _blocks.Add((kind, block));
            blocks.Add(block);
        }
        dropout = nn.Dropout(dropRate);
        head = nn.Linear(2 * channels, numClasses);
        RegisterComponents();
    }

    private static Sequential Conv(long input, long output) =>
        nn.Sequential(nn.Conv2d(input, output, 3, padding: 1, bias: false), nn.BatchNorm2d(output), nn.ReLU(inplace: true));

    public override bool SupportsBFloat16 => true;

    public override Linear Classifier => head;

    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input;
        foreach (var (kind, block) in _blocks)
            x = kind is 'r' or 'R' ? x.add(MixedPrecision.Run(block, x, Precision)) : MixedPrecision.Run(block, x, Precision);
        return scope.MoveToOuter(x);
    }

    public override Tensor ForwardEmbedding(Tensor features)
    {
        using var scope = NewDisposeScope();
        var pooled = MixedPrecision.ToFloat32(cat(new[] { features.mean(new long[] { 2, 3 }), features.amax(new long[] { 2, 3 }) }, 1));
        return scope.MoveToOuter(dropout.call(pooled));
    }

    public override void ResetClassifier(int numClasses) => throw new NotSupportedException("The search networks keep their head.");
}
