using FashionVision.Data;
using TorchSharp.Modules;

namespace FashionVision.Tests.Training;

/// <summary>Tiny models and synthetic datasets shared by the training, evaluation and inference tests.</summary>
internal static class TrainingTestKit
{
    public static readonly string[] ThreeClasses = { "left", "middle", "right" };

    /// <summary>
    /// A learnable synthetic dataset: 1×8×8 uint8 images with a bright vertical bar in column band c (class c) plus noise.
    /// </summary>
    public static InMemoryDataset Bars(int count, long seed = 1, int classes = 3)
    {
        using var g = new Generator((ulong)seed);
        using var scope = NewDisposeScope();
        var labels = randint(0, classes, new long[] { count }, generator: g, dtype: ScalarType.Int64);
        var noise = rand(new long[] { count, 1, 8, 8 }, generator: g).mul(90);
        var columns = arange(8).div(8.0 / classes, rounding_mode: RoundingMode.floor).to_type(ScalarType.Int64);
        var mask = columns.view(1, 1, 1, 8).eq(labels.view(-1, 1, 1, 1)).to_type(ScalarType.Float32).mul(160);
        var images = noise.add(mask).clamp(0, 255).to_type(ScalarType.Byte);
        var names = Enumerable.Range(0, classes).Select(i => i < ThreeClasses.Length && classes == 3 ? ThreeClasses[i] : $"class{i}").ToArray();
        scope.Detach(images, labels);
        return new InMemoryDataset(images, labels, names, "bars");
    }

    /// <summary>A small conv net with BatchNorm and dropout (so RNG, buffers and train/eval mode all matter).</summary>
    public sealed class TinyNet : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv;
        private readonly BatchNorm2d bn;
        private readonly Dropout drop;
        private readonly Linear head;

        public TinyNet(int classes = 3, long seed = 0, int channels = 4) : base("TinyNet")
        {
            manual_seed(seed);
            conv = nn.Conv2d(1, channels, 3, padding: 1);
            bn = nn.BatchNorm2d(channels);
            drop = nn.Dropout(0.2);
            head = nn.Linear(channels * 16, classes);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = nn.functional.relu(bn.forward(conv.forward(input)));
            x = nn.functional.max_pool2d(x, 2).flatten(1);
            return scope.MoveToOuter(head.forward(drop.forward(x)));
        }
    }

    /// <summary>All weights and buffers, flattened into one CPU float64 array.</summary>
    public static double[] Weights(nn.Module model) =>
        model.state_dict().Values.SelectMany(t => t.detach().cpu().to_type(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fv-training-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
