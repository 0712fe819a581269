using System.Diagnostics;
using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks.Speedrun;

/// <summary>
/// Fixed workloads timed in the same run as the recipes, so that figures taken on different machines can be compared:
/// the machine's matrix-multiply and convolution rates (its "peak"), a hand-written TorchSharp training epoch, and the
/// Trainer's overhead over that hand-written loop.
/// </summary>
internal static class ReferenceWorkloads
{
    /// <summary>GFLOP/s of a 1024³ matrix multiply in <paramref name="dtype"/> (best of several).</summary>
    public static double MatmulGflops(ScalarType dtype)
    {
        using var a = randn(1024, 1024).to_type(dtype);
        using var b = randn(1024, 1024).to_type(dtype);
        double best = Best(() => { using var c = a.matmul(b); }, warmup: 3, repeats: 5, iterations: 10);
        return 2.0 * 1024 * 1024 * 1024 / best / 1e9;
    }

    /// <summary>
    /// The convolution peak: the best forward+backward GFLOP/s over 3×3 convolutions of the widths and sizes the fast
    /// models use (batch 256), in <paramref name="dtype"/>.
    /// </summary>
    public static (double Gflops, string Shape) ConvolutionPeak(ScalarType dtype)
    {
        (double, string) best = (0, "");
        foreach (var (channels, size) in new[] { (48, 14), (64, 14), (96, 7), (128, 7), (128, 14), (192, 7) })
        {
            using var x = randn(256, channels, size, size).to_type(dtype).requires_grad_(true);
            using var w = randn(channels, channels, 3, 3).mul(0.05).to_type(dtype).requires_grad_(true);
            double seconds = Best(() =>
            {
                using var scope = NewDisposeScope();
                nn.functional.conv2d(x, w, padding: new long[] { 1, 1 }).sum().backward();
            }, warmup: 2, repeats: 3, iterations: 3);
            double gflops = 3 * 2.0 * 256 * channels * channels * 9 * size * size / seconds / 1e9;
            if (gflops > best.Item1)
                best = (gflops, $"{channels}→{channels} at {size}×{size}");
        }
        return best;
    }

    /// <summary>
    /// A plain hand-written TorchSharp example (two 3×3 convolutions of 32 and 64 channels with max-pooling, a 128-unit
    /// hidden layer, Adam at 1e-3, batch 64, one epoch, no normalisation) on Fashion-MNIST: its wall time and test accuracy.
    /// </summary>
    public static (double Seconds, double Accuracy) HandWrittenEpoch(InMemoryDataset train, InMemoryDataset test)
    {
        var clock = Stopwatch.StartNew();
        manual_seed(0);
        using var conv1 = nn.Conv2d(1, 32, 3, padding: 1);
        using var conv2 = nn.Conv2d(32, 64, 3, padding: 1);
        using var fc1 = nn.Linear(64 * 7 * 7, 128);
        using var fc2 = nn.Linear(128, 10);
        Tensor Forward(Tensor x)
        {
            x = nn.functional.max_pool2d(nn.functional.relu(conv1.forward(x)), 2);
            x = nn.functional.max_pool2d(nn.functional.relu(conv2.forward(x)), 2);
            return fc2.forward(nn.functional.relu(fc1.forward(x.flatten(1))));
        }
        var parameters = conv1.parameters().Concat(conv2.parameters()).Concat(fc1.parameters()).Concat(fc2.parameters()).ToArray();
        using var optimizer = optim.Adam(parameters, 1e-3);
        using (var loader = new DataLoader(train, new DataLoaderOptions { BatchSize = 64, Seed = 0 }))
        {
            foreach (var batch in loader.GetBatches(0))
            {
                using var scope = NewDisposeScope();
                var loss = nn.functional.cross_entropy(Forward(batch.Images), batch.Labels);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        long correct = 0;
        using (no_grad())
        using (var loader = new DataLoader(test, new DataLoaderOptions { BatchSize = 1000, Shuffle = false }))
        {
            foreach (var batch in loader.GetBatches(0))
            {
                using var scope = NewDisposeScope();
                correct += Forward(batch.Images).argmax(1).eq(batch.Labels).sum().item<long>();
            }
        }
        return (clock.Elapsed.TotalSeconds, correct / (double)test.Count);
    }

    /// <summary>
    /// The Trainer's time for one epoch over the hand-written loop's on the same model, data and optimizer, alternating
    /// the two <paramref name="rounds"/> times: the mean ratio and its standard error.
    /// </summary>
    public static (double Ratio, double StandardError) TrainerOverhead(InMemoryDataset train, int rounds)
    {
        using var subset = train.Take(128 * 60);
        var ratios = new List<double>();
        using var model = new FastCnn(width: FastCnn.DefaultWidth);
        for (int round = 0; round < rounds + 1; round++)
        {
            double hand = Time(() => HandLoop(model, subset));
            double trainer = Time(() =>
            {
                using var t = new Trainer(model, new TrainerOptions
                {
                    Epochs = 1,
                    BatchSize = 128,
                    Seed = 1,
                    Normalize = false,
                    Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3, WeightDecay = 0.01, NoWeightDecayOnNormAndBias = false },
                });
                t.Fit(subset);
            });
            if (round > 0) // the first round warms both paths up
                ratios.Add(trainer / hand);
        }
        double mean = ratios.Average();
        double sd = Math.Sqrt(ratios.Sum(r => (r - mean) * (r - mean)) / Math.Max(1, ratios.Count - 1));
        return (mean, sd / Math.Sqrt(ratios.Count));
    }

    private static void HandLoop(FastCnn model, InMemoryDataset data)
    {
        using var optimizer = optim.AdamW(model.parameters(), 1e-3, weight_decay: 0.01);
        using var loader = new DataLoader(data, new DataLoaderOptions { BatchSize = 128, Seed = 1, DropLast = true });
        model.train();
        foreach (var batch in loader.GetBatches(0))
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(model.forward(batch.Images), batch.Labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            loss.item<float>();
        }
    }

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Best(Action action, int warmup, int repeats, int iterations)
    {
        for (int i = 0; i < warmup; i++)
            action();
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++)
                action();
            best = Math.Min(best, clock.Elapsed.TotalSeconds / iterations);
        }
        return best;
    }
}
