using System.Diagnostics;
using static TorchSharp.torch;

namespace FashionVision.Native;

/// <summary>Measured arithmetic rates of one device, in GFLOP/s (see <see cref="ComputeProbe.Run"/>).</summary>
/// <param name="Float32Conv">A 3×3 convolution (64 → 64 channels at 28×28, batch 8), forward and backward, in float32.</param>
/// <param name="BFloat16Conv">The same convolution on bfloat16 casts of its input and weight, as <see cref="Models.ComputePrecision.BFloat16"/> runs it.</param>
/// <param name="Float32Matmul">A 256×512 by 512×512 matrix product in float32.</param>
/// <param name="BFloat16Matmul">The same product in bfloat16.</param>
/// <param name="Seconds">Wall time the probe took, warm-up included.</param>
public sealed record ComputeProbeResult(double Float32Conv, double BFloat16Conv, double Float32Matmul, double BFloat16Matmul, double Seconds)
{
    /// <summary>The largest error of a float32 convolution (16 × 24 channels at 14×14 → 24) relative to the largest output, against float64.</summary>
    public double Float32ConvError { get; init; }

    /// <summary>The same for the convolution on bfloat16 casts (bfloat16 keeps 8 significant bits: about 4e-3 is expected).</summary>
    public double BFloat16ConvError { get; init; }

    /// <summary>The float32 error above which a convolution is wrong rather than rounded.</summary>
    public const double Float32Tolerance = 1e-4;

    /// <summary>The bfloat16 error above which a convolution is wrong rather than rounded.</summary>
    public const double BFloat16Tolerance = 2e-2;

    /// <summary>Whether both convolutions computed what float64 computes, within their formats' rounding (NaN counts as wrong).</summary>
    public bool ConvolutionsCorrect => Float32ConvError <= Float32Tolerance && BFloat16ConvError <= BFloat16Tolerance;

    /// <summary>How many times faster the bfloat16 convolution ran than the float32 one (below 1: slower).</summary>
    public double BFloat16ConvSpeedup => Float32Conv > 0 ? BFloat16Conv / Float32Conv : double.NaN;
}

/// <summary>
/// A short measurement of what the device computes per second in float32 and bfloat16, for reports. It informs a reader;
/// it decides nothing (<see cref="DeviceProfile.ChoosePrecision(Models.ImageClassifier, Device)"/> decides by features, so
/// that a loaded machine cannot change a run's precision). Figures taken on a loaded machine are lower than the machine's.
/// </summary>
public static class ComputeProbe
{
    // Batch 8: libtorch considers NNPACK for float32 batches of 16 and more, and prints a warning per call on CPUs it does not know.
    private const int Batch = 8, InChannels = 64, OutChannels = 64, Size = 28, Kernel = 3;
    private const int Rows = 256, Inner = 512, Columns = 512;

    /// <summary>Runs the four measurements, each for about a quarter of <paramref name="budget"/> after one warm-up call.</summary>
    /// <param name="device">The device to measure.</param>
    /// <param name="budget">The total measuring time (default 0.8 s); warm-up comes on top.</param>
    public static ComputeProbeResult Run(Device? device = null, TimeSpan? budget = null)
    {
        TorchRuntime.EnsureInitialized();
        device ??= CPU;
        var each = (budget ?? TimeSpan.FromSeconds(0.8)) / 4;
        var total = Stopwatch.StartNew();
        using var scope = NewDisposeScope();
        var generator = new Generator(0);
        // Forward 2·N·Cout·H·W·Cin·k², backward about twice that (input and weight gradients).
        double convFlops = 3.0 * 2 * Batch * OutChannels * Size * Size * InChannels * Kernel * Kernel;
        double matmulFlops = 2.0 * Rows * Inner * Columns;
        var input = randn([Batch, InChannels, Size, Size], generator: generator).to(device);
        var weight = randn([OutChannels, InChannels, Kernel, Kernel], generator: generator).mul(0.05).to(device);
        var a = randn([Rows, Inner], generator: generator).to(device);
        var b = randn([Inner, Columns], generator: generator).to(device);
        double f32Conv = Rate(() => ConvStep(input, weight, ScalarType.Float32), convFlops, each, device);
        double bf16Conv = Rate(() => ConvStep(input, weight, ScalarType.BFloat16), convFlops, each, device);
        double f32Matmul = Rate(() => a.matmul(b).Dispose(), matmulFlops, each, device);
        var a16 = a.to_type(ScalarType.BFloat16);
        var b16 = b.to_type(ScalarType.BFloat16);
        double bf16Matmul = Rate(() => a16.matmul(b16).Dispose(), matmulFlops, each, device);
        var (f32Error, bf16Error) = ConvolutionErrors(device, generator);
        return new ComputeProbeResult(f32Conv, bf16Conv, f32Matmul, bf16Matmul, total.Elapsed.TotalSeconds)
        {
            Float32ConvError = f32Error,
            BFloat16ConvError = bf16Error,
        };
    }

    /// <summary>
    /// Checks that the convolution kernels compute correctly: a 24-channel 3×3 convolution at 14×14 (batch 16, the kind of
    /// layer fast-cnn trains) in float32 and on bfloat16 casts, against float64 (which oneDNN does not run). Returns each
    /// one's largest error relative to the largest output (NaN when the output has NaNs).
    /// </summary>
    public static (double Float32, double BFloat16) ConvolutionErrors(Device? device = null, Generator? generator = null)
    {
        TorchRuntime.EnsureInitialized();
        device ??= CPU;
        using var scope = NewDisposeScope();
        generator ??= new Generator(0);
        var x = randn([16, 24, 14, 14], generator: generator).to(device);
        var w = randn([24, 24, 3, 3], generator: generator).mul(0.1).to(device);
        using var noGrad = no_grad();
        var reference = nn.functional.conv2d(x.to(float64), w.to(float64), padding: [1, 1]);
        double scale = reference.abs().max().item<double>();
        double Error(ScalarType type)
        {
            var output = nn.functional.conv2d(x.to(type), w.to(type), padding: [1, 1]).to(float64);
            return output.isnan().any().item<bool>() ? double.NaN : (output - reference).abs().max().item<double>() / scale;
        }
        return (Error(ScalarType.Float32), Error(ScalarType.BFloat16));
    }

    private static void ConvStep(Tensor input, Tensor weight, ScalarType type)
    {
        using var scope = NewDisposeScope();
        var x = input.detach().to_type(type).requires_grad_(true);
        var w = weight.detach().to_type(type).requires_grad_(true);
        nn.functional.conv2d(x, w, padding: [1, 1]).sum().backward();
    }

    /// <summary>GFLOP/s of <paramref name="step"/>: one warm-up call, then calls until <paramref name="duration"/> has passed (at least one).</summary>
    private static double Rate(Action step, double flopsPerStep, TimeSpan duration, Device device)
    {
        step();
        Synchronize(device);
        var clock = Stopwatch.StartNew();
        int steps = 0;
        do
        {
            step();
            steps++;
            Synchronize(device);
        }
        while (clock.Elapsed < duration);
        return flopsPerStep * steps / clock.Elapsed.TotalSeconds / 1e9;
    }

    private static void Synchronize(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA)
            cuda.synchronize(device);
    }
}
