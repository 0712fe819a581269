using BenchmarkDotNet.Attributes;
using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// The Trainer's per-step overhead: one epoch of 8 batches of 64 Fashion-MNIST-sized images through the same model,
/// once with a hand-written TorchSharp loop (loader, forward, cross-entropy, zero_grad, backward, step, loss.item) and
/// once with <see cref="Trainer.Fit"/> (same optimizer, no schedule, no validation, no normalisation).
/// Target: Trainer ≤ 1.03 × hand loop.
/// </summary>
[MemoryDiagnoser(false)]
public class TrainerBenchmarks
{
    private const int Batches = 8;
    private const int BatchSize = 64;
    private InMemoryDataset _data = null!;
    private FastCnn _model = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        using var g = new torch.Generator(1);
        var images = randint(0, 256, new long[] { Batches * BatchSize, 1, 28, 28 }, generator: g).to_type(ScalarType.Byte);
        var labels = randint(0, 10, new long[] { Batches * BatchSize }, generator: g);
        _data = new InMemoryDataset(images, labels, Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray(), "benchmark");
        manual_seed(0);
        _model = new FastCnn(width: 8);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _data.Dispose();
    }

    [Benchmark(Baseline = true)]
    public double HandWrittenLoop()
    {
        using var optimizer = optim.AdamW(_model.parameters(), 1e-3, weight_decay: 0.01);
        using var loader = new DataLoader(_data, new DataLoaderOptions { BatchSize = BatchSize, Seed = 1, DropLast = true });
        _model.train();
        double sum = 0;
        foreach (var batch in loader.GetBatches(0))
        {
            using var scope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(_model.forward(batch.Images), batch.Labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            sum += loss.item<float>();
        }
        return sum;
    }

    [Benchmark]
    public double TrainerFit()
    {
        using var trainer = new Trainer(_model, new TrainerOptions
        {
            Epochs = 1,
            BatchSize = BatchSize,
            Seed = 1,
            Normalize = false,
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.AdamW, LearningRate = 1e-3, WeightDecay = 0.01, NoWeightDecayOnNormAndBias = false },
        });
        return trainer.Fit(_data).Epochs[0].TrainLoss;
    }
}
