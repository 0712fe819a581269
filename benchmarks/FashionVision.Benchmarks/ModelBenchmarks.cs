using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// Forward (evaluation mode, no autograd) and forward+backward (training mode, cross-entropy, backward) of every zoo model
/// at batch 128, on CUDA when present and otherwise the CPU. Extra columns: images/s, the library's FLOPs per image
/// (<see cref="FlopCounter"/>) and the achieved GFLOP/s, counting a backward pass as twice the forward (so forward+backward
/// = 3 × forward FLOPs), to set against the machine's matmul peak.
/// </summary>
/// <remarks>
/// Sizes: every model at its native 1×28×28, except <c>resnet18-imagenet</c>, which runs at 3×64×64 instead of 3×224×224
/// (12× fewer FLOPs; its 224×224 cost is in <see cref="ModelZoo.Describe"/>), and <c>wrn-28-10</c>, which is left out by
/// default (≈ 1 TFLOP per forward batch: minutes per BenchmarkDotNet iteration on two cores). Set
/// <c>FASHIONVISION_BENCH_MODELS</c> to a comma-separated list of names to choose the models.
/// Run: <c>dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*ModelBenchmarks*' --job short</c>
/// </remarks>
[Config(typeof(ThroughputConfig))]
public class ModelBenchmarks
{
    /// <summary>The batch size of every measurement.</summary>
    public const int Batch = 128;

    private ImageClassifier _model = null!;
    private Tensor _input = null!;
    private Tensor _labels = null!;
    private Device _device = null!;

    /// <summary>The models measured.</summary>
    public static IEnumerable<string> Models
    {
        get
        {
            var chosen = Environment.GetEnvironmentVariable("FASHIONVISION_BENCH_MODELS");
            return string.IsNullOrWhiteSpace(chosen)
                ? ModelZoo.Names.Where(n => n != "wrn-28-10")
                : chosen.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
    }

    /// <summary>The zoo name of the model under test.</summary>
    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "";

    /// <summary>The input shape C×H×W this benchmark uses for a model.</summary>
    public static (long C, long H, long W) InputShape(string model)
    {
        var info = ModelZoo.Describe(model);
        long size = model == "resnet18-imagenet" ? 64 : info.InputHeight;
        return (info.InputChannels, size, size);
    }

    /// <summary>Builds the model and a random batch on the device.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _device = cuda.is_available() ? CUDA : CPU;
        _model = ModelZoo.Create(Model, ModelZoo.DefaultOptions(Model) with { Seed = 1 });
        _model.to(_device);
        var (c, h, w) = InputShape(Model);
        var generator = new Generator(7);
        _input = rand(new long[] { Batch, c, h, w }, generator: generator).to(_device);
        _labels = randint(0, _model.NumClasses, new long[] { Batch }, generator: generator).to(_device);
    }

    /// <summary>Releases the model and the batch.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _input.Dispose();
        _labels.Dispose();
    }

    /// <summary>Inference: evaluation mode, no autograd.</summary>
    [Benchmark(Description = "forward")]
    public float Forward()
    {
        _model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = _model.call(_input);
        Synchronize();
        return logits.shape[1];
    }

    /// <summary>One training step without the optimizer: zero the gradients, forward, cross-entropy, backward.</summary>
    [Benchmark(Description = "forward+backward")]
    public float ForwardBackward()
    {
        _model.train();
        using var scope = NewDisposeScope();
        _model.zero_grad();
        var loss = nn.functional.cross_entropy(_model.call(_input), _labels);
        loss.backward();
        Synchronize();
        return loss.shape.Length;
    }

    private void Synchronize()
    {
        if (_device.type == DeviceType.CUDA)
            cuda.synchronize(_device);
    }

    private sealed class ThroughputConfig : ManualConfig
    {
        public ThroughputConfig()
        {
            AddColumn(new ThroughputColumn(ThroughputColumn.Kind.Parameters));
            AddColumn(new ThroughputColumn(ThroughputColumn.Kind.FlopsPerImage));
            AddColumn(new ThroughputColumn(ThroughputColumn.Kind.ImagesPerSecond));
            AddColumn(new ThroughputColumn(ThroughputColumn.Kind.GflopsPerSecond));
        }
    }

    /// <summary>Derived columns: images/s = batch / mean; GFLOP/s = FLOPs per image × batch × (1 or 3) / mean.</summary>
    private sealed class ThroughputColumn : IColumn
    {
        private static readonly ConcurrentDictionary<string, long> Flops = new();
        private readonly Kind _kind;

        public enum Kind { Parameters, FlopsPerImage, ImagesPerSecond, GflopsPerSecond }

        public ThroughputColumn(Kind kind) => _kind = kind;

        public string Id => nameof(ThroughputColumn) + _kind;
        public string ColumnName => _kind switch
        {
            Kind.Parameters => "params",
            Kind.FlopsPerImage => "MFLOP/image",
            Kind.ImagesPerSecond => "images/s",
            _ => "GFLOP/s",
        };
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => (int)_kind;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => _kind switch
        {
            Kind.Parameters => "Learnable parameters (ModelZoo.Describe)",
            Kind.FlopsPerImage => "Forward FLOPs per image computed by FlopCounter (2 × Conv2d/Linear multiply-adds), in millions",
            Kind.ImagesPerSecond => "Images per second: batch / mean time",
            _ => "Achieved GFLOP/s: FLOPs per image × batch / mean time, forward+backward counted as 3 × forward",
        };
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            string model = (string)benchmarkCase.Parameters["Model"];
            if (_kind == Kind.Parameters)
                return ModelZoo.Describe(model).ParameterCount.ToString("N0");
            long flops = Flops.GetOrAdd(model, name =>
            {
                using var instance = ModelZoo.Create(name, ModelZoo.DefaultOptions(name));
                var (c, h, w) = InputShape(name);
                return FlopCounter.CountFlops(instance, c, h, w);
            });
            if (_kind == Kind.FlopsPerImage)
                return (flops / 1e6).ToString("N1");
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is null)
                return "-";
            double seconds = report.ResultStatistics.Mean / 1e9;
            double imagesPerSecond = Batch / seconds;
            if (_kind == Kind.ImagesPerSecond)
                return imagesPerSecond.ToString("N0");
            double factor = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ForwardBackward) ? 3 : 1;
            return (flops * factor * imagesPerSecond / 1e9).ToString("N1");
        }
    }
}

/// <summary>
/// The reference point for <see cref="ModelBenchmarks"/>' GFLOP/s: a 1024×1024 by 1024×1024 float32 matmul
/// (2 × 1024³ = 2.147 GFLOP), measured in the same run so that the ratio survives a noisy machine.
/// </summary>
public class ModelBenchmarksMatmulPeak
{
    /// <summary>FLOPs of one product.</summary>
    public const double Flops = 2.0 * 1024 * 1024 * 1024;

    private Tensor _a = null!;
    private Tensor _b = null!;

    /// <summary>Two random matrices.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var generator = new Generator(3);
        _a = rand(new long[] { 1024, 1024 }, generator: generator);
        _b = rand(new long[] { 1024, 1024 }, generator: generator);
    }

    /// <summary>Releases the matrices.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    /// <summary>One product.</summary>
    [Benchmark(Description = "matmul 1024³")]
    public long Matmul()
    {
        using var product = _a.matmul(_b);
        return product.shape[0];
    }
}
