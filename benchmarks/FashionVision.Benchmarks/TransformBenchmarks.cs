using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using FashionVision.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// Augmentation throughput on one 256×1×28×28 batch (images/s = the Op/s column: each invocation counts 256 operations).
/// Runs on the CPU, and on CUDA too when a CUDA libtorch is present.
/// Run with: dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*TransformBenchmarks*' --job short
/// </summary>
/// <remarks>
/// <see cref="Threads"/> sets torch's intra-op threads: on 28×28 batches the work per op is small, and on a busy 2-core machine
/// a second OpenMP thread mostly waits at barriers.
/// </remarks>
[Config(typeof(ImagesPerSecondConfig))]
public class TransformBenchmarks
{
    private const int BatchSize = 256;
    private Tensor _images = null!;
    private Tensor _labels = null!;
    private Generator _generator = null!;

    private readonly IBatchTransform _flip = new RandomHorizontalFlip(0.5);
    private readonly IBatchTransform _rotation = new RandomRotation(15, 0.5);
    private readonly IBatchTransform _affine = new RandomAffine(10, 0.1, (0.9, 1.1), 5, 0.5);
    private readonly IBatchTransform _crop = new RandomCrop(4);
    private readonly IBatchTransform _resizedCrop = new RandomResizedCrop(28, 28, (0.5, 1.0));
    private readonly IBatchTransform _elastic = new ElasticDistortion(34, 4, 0.5);
    private readonly IBatchTransform _erasing = new RandomErasing(0.5);
    private readonly IBatchTransform _jitter = new ColorJitter(0.3, 0.3, 0.5);
    private readonly IBatchTransform _noise = new GaussianNoise(0.05, 0.5);
    private readonly IBatchTransform _cutMix = new CutMix(10, 1.0, 0.5);
    private readonly IBatchTransform _mixup = new Mixup(10, 0.2, 0.5);
    private readonly IBatchTransform _trivial = new TrivialAugment();
    private readonly IBatchTransform _randAugment = new RandAugment();
    private readonly IBatchTransform _autoAugment = new AutoAugment();

    /// <summary>The typical chain: flip + affine + erasing + CutMix.</summary>
    private readonly IBatchTransform _typical = new Compose(
        new RandomHorizontalFlip(0.5), new RandomAffine(10, 0.1, (0.9, 1.1), 5, 0.5), new RandomErasing(0.5), new CutMix(10, 1.0, 0.5));

    /// <summary>The typical chain with elastic distortion after the affine.</summary>
    private readonly IBatchTransform _typicalElastic = new Compose(
        new RandomHorizontalFlip(0.5), new RandomAffine(10, 0.1, (0.9, 1.1), 5, 0.5), new ElasticDistortion(34, 4, 0.5),
        new RandomErasing(0.5), new CutMix(10, 1.0, 0.5));

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    public static IEnumerable<string> Devices() => cuda.is_available() ? new[] { "cpu", "cuda" } : new[] { "cpu" };

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(Threads);
        var device = torch.device(Device);
        _images = rand(new long[] { BatchSize, 1, 28, 28 }, generator: new Generator(1)).to(device);
        _labels = randint(0, 10, new long[] { BatchSize }, generator: new Generator(2)).to(device);
        _generator = new Generator(3);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _images.Dispose();
        _labels.Dispose();
    }

    private void Run(IBatchTransform transform)
    {
        using var scope = NewDisposeScope();
        var (images, targets) = transform.Apply(_images, _labels, _generator);
        if (images.device_type == DeviceType.CUDA)
            cuda.synchronize();
    }

    [Benchmark(OperationsPerInvoke = BatchSize)] public void HorizontalFlip() => Run(_flip);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Rotation() => Run(_rotation);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Affine() => Run(_affine);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Crop() => Run(_crop);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void ResizedCrop() => Run(_resizedCrop);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Elastic() => Run(_elastic);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Erasing() => Run(_erasing);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Jitter() => Run(_jitter);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Noise() => Run(_noise);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void CutMix() => Run(_cutMix);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void Mixup() => Run(_mixup);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void TrivialAugment() => Run(_trivial);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void RandAugment() => Run(_randAugment);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void AutoAugment() => Run(_autoAugment);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void TypicalChain() => Run(_typical);
    [Benchmark(OperationsPerInvoke = BatchSize)] public void TypicalChainWithElastic() => Run(_typicalElastic);

    private sealed class ImagesPerSecondConfig : ManualConfig
    {
        public ImagesPerSecondConfig() => AddColumn(StatisticColumn.OperationsPerSecond);
    }
}
