using System.Diagnostics;
using System.Runtime.InteropServices;
using FashionVision.Models;
using TorchSharp;

namespace FashionVision.Native;

/// <summary>
/// The one place that knows the machine: the CPU's features (<see cref="CpuFeatures"/>), the instruction-set levels libtorch
/// will actually use once the environment's caps are applied (<see cref="KernelIsa"/>), and the CUDA devices. Every
/// decision that depends on the hardware (<see cref="ComputePrecision.Auto"/>, the INT8 encoding of an ONNX export, the
/// system report) reads it from here, so a log reader finds one reason for each.
/// </summary>
public sealed class DeviceProfile
{
    private static readonly Lazy<DeviceProfile> s_current = new(Detect, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates a profile from given facts (for tests, and to ask what another machine would choose).</summary>
    /// <param name="cpu">The CPU's features.</param>
    /// <param name="oneDnnCap">The value of <c>ONEDNN_MAX_CPU_ISA</c> (null: unset). A value oneDNN does not know is ignored, as oneDNN ignores it, and noted in <see cref="Warnings"/>.</param>
    /// <param name="atenCap">The value of <c>ATEN_CPU_CAPABILITY</c> (null: unset); unknown values are ignored and noted the same way.</param>
    /// <param name="cudaDevices">The CUDA devices (null: none).</param>
    public DeviceProfile(CpuFeatures cpu, string? oneDnnCap = null, string? atenCap = null, IReadOnlyList<CudaDeviceInfo>? cudaDevices = null)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        Cpu = cpu;
        var warnings = new List<string>();
        IsX86 = cpu.Architecture is Architecture.X64 or Architecture.X86;
        DetectedIsa = IsX86 ? KernelIsa.Detect(cpu) : OneDnnIsa.None;
        OneDnnCapValue = string.IsNullOrWhiteSpace(oneDnnCap) ? null : oneDnnCap.Trim();
        try
        {
            OneDnnCap = KernelIsa.ParseOneDnnCap(oneDnnCap);
        }
        catch (ArgumentException e)
        {
            warnings.Add($"{KernelIsa.OneDnnCapVariable}: {e.Message.Split(" (Parameter")[0]} It is ignored.");
        }
        EffectiveIsa = KernelIsa.Effective(DetectedIsa, OneDnnCap);
        DetectedAten = IsX86 ? KernelIsa.DetectAten(cpu) : AtenCapability.Default;
        AtenCapValue = string.IsNullOrWhiteSpace(atenCap) ? null : atenCap.Trim();
        try
        {
            AtenCap = KernelIsa.ParseAtenCap(atenCap);
        }
        catch (ArgumentException e) when (IsX86)
        {
            warnings.Add($"{KernelIsa.AtenCapVariable}: {e.Message.Split(" (Parameter")[0]} It is ignored.");
        }
        catch (ArgumentException)
        {
            // Other architectures have their own values (zvector, sve256); they do not concern the x86 levels.
        }
        EffectiveAten = KernelIsa.EffectiveAten(DetectedAten, AtenCap);
        CudaDevices = cudaDevices ?? Array.Empty<CudaDeviceInfo>();
        Warnings = warnings;
    }

    /// <summary>This process's machine, detected once (environment caps as they were at first use).</summary>
    public static DeviceProfile Current => s_current.Value;

    /// <summary>The CPU's model, cores and features.</summary>
    public CpuFeatures Cpu { get; }

    /// <summary>Whether the CPU is x86 (the ISA levels below are x86 levels; other CPUs have <see cref="OneDnnIsa.None"/>).</summary>
    public bool IsX86 { get; }

    /// <summary>The highest oneDNN level the CPU supports.</summary>
    public OneDnnIsa DetectedIsa { get; }

    /// <summary>The raw value of <c>ONEDNN_MAX_CPU_ISA</c>, or null when unset.</summary>
    public string? OneDnnCapValue { get; }

    /// <summary>The cap <c>ONEDNN_MAX_CPU_ISA</c> sets, or null for none.</summary>
    public OneDnnIsa? OneDnnCap { get; }

    /// <summary>The level oneDNN runs: <see cref="DetectedIsa"/> within <see cref="OneDnnCap"/>.</summary>
    public OneDnnIsa EffectiveIsa { get; }

    /// <summary>The highest ATen kernel build the CPU supports.</summary>
    public AtenCapability DetectedAten { get; }

    /// <summary>The raw value of <c>ATEN_CPU_CAPABILITY</c>, or null when unset.</summary>
    public string? AtenCapValue { get; }

    /// <summary>The cap <c>ATEN_CPU_CAPABILITY</c> sets, or null for none.</summary>
    public AtenCapability? AtenCap { get; }

    /// <summary>The ATen build libtorch runs.</summary>
    public AtenCapability EffectiveAten { get; }

    /// <summary>The CUDA devices libtorch sees (empty on a CPU-only build or machine).</summary>
    public IReadOnlyList<CudaDeviceInfo> CudaDevices { get; }

    /// <summary>Problems with the environment's caps (values the libraries do not know and ignore).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>
    /// Whether oneDNN runs bfloat16 convolutions on native bfloat16 dot products here (its effective level includes
    /// AVX512_CORE_BF16, which AMX levels do too). Below that level oneDNN converts bfloat16 to float32 and back around
    /// float32 arithmetic, which on AVX2 measured about 9× slower than plain float32.
    /// </summary>
    public bool CpuHasNativeBFloat16 => IsX86 && KernelIsa.Includes(EffectiveIsa, OneDnnIsa.Avx512CoreBf16);

    /// <summary>
    /// Chooses the compute precision <see cref="ComputePrecision.Auto"/> stands for: bfloat16 only where the model supports
    /// it and the device has native bfloat16 arithmetic (a CPU whose effective oneDNN level includes AVX512_CORE_BF16 or
    /// AMX; a CUDA device of compute capability 8.0 or higher), float32 everywhere else.
    /// </summary>
    /// <remarks>
    /// The rule reads features, not a timing probe. A probe measured while other processes load the machine would let the
    /// same seed train in bfloat16 on one run and float32 on the next, and a run would no longer be reproducible from its
    /// settings; the features are the same every time. Where the features say "native", bfloat16 convolutions measured
    /// faster than float32 (oneDNN's AVX512_BF16 kernels); where they do not, bfloat16 is emulated and measured far slower.
    /// </remarks>
    /// <param name="model">The model to train or evaluate.</param>
    /// <param name="device">The device it runs on.</param>
    public PrecisionChoice ChoosePrecision(ImageClassifier model, torch.Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(device);
        return ChoosePrecision(model.SupportsBFloat16, model.GetType().Name, device.type, device.index);
    }

    /// <summary>The rule of <see cref="ChoosePrecision(ImageClassifier, torch.Device)"/> on plain facts.</summary>
    /// <param name="modelSupportsBFloat16">The model's <see cref="ImageClassifier.SupportsBFloat16"/>.</param>
    /// <param name="modelName">The model's name, for the reason.</param>
    /// <param name="deviceType">The device type.</param>
    /// <param name="deviceIndex">The device index (−1 or 0 for the first CUDA device).</param>
    public PrecisionChoice ChoosePrecision(bool modelSupportsBFloat16, string modelName, DeviceType deviceType, int deviceIndex = -1)
    {
        if (!modelSupportsBFloat16)
            return Float32($"{modelName} computes in float32 only.");
        switch (deviceType)
        {
            case DeviceType.CUDA:
            {
                var index = Math.Max(0, deviceIndex);
                var cuda = CudaDevices.FirstOrDefault(d => d.Index == index);
                if (cuda?.ComputeCapability is not { } capability)
                    return Float32($"the compute capability of cuda:{index} is unknown (no nvidia-smi), so native bfloat16 cannot be assumed.");
                return cuda.HasNativeBFloat16
                    ? new PrecisionChoice(ComputePrecision.BFloat16, $"cuda:{index} ({cuda.Name}) has compute capability {capability.Major}.{capability.Minor} ≥ 8.0: native bfloat16 tensor cores.")
                    : Float32($"cuda:{index} ({cuda.Name}) has compute capability {capability.Major}.{capability.Minor} < 8.0: no native bfloat16.");
            }
            case DeviceType.CPU when !IsX86:
                return Float32($"bfloat16 on {Cpu.Architecture} CPUs is not measured by this library; float32 is the safe choice.");
            case DeviceType.CPU when CpuHasNativeBFloat16:
                return new PrecisionChoice(ComputePrecision.BFloat16,
                    $"oneDNN runs {IsaName(EffectiveIsa)} kernels on this CPU ({Cpu.ModelName}): native bfloat16 dot products.");
            case DeviceType.CPU:
            {
                var why = KernelIsa.Includes(DetectedIsa, OneDnnIsa.Avx512CoreBf16)
                    ? $"the CPU has AVX512_BF16 but {KernelIsa.OneDnnCapVariable}={OneDnnCapValue} caps oneDNN at {IsaName(EffectiveIsa)}"
                    : $"the CPU ({Cpu.ModelName}) has no AVX512_BF16 or AMX-BF16 (oneDNN runs {IsaName(EffectiveIsa)})";
                return Float32($"{why}: bfloat16 convolutions would be emulated in float32, several times slower.");
            }
            default:
                return Float32($"bfloat16 is only chosen automatically on CPUs and CUDA devices, not {deviceType}.");
        }
    }

    /// <summary>oneDNN's spelling of a level (e.g. <c>AVX512_CORE_BF16</c>), as <c>ONEDNN_MAX_CPU_ISA</c> takes it.</summary>
    public static string IsaName(OneDnnIsa isa) => isa switch
    {
        OneDnnIsa.None => "NONE",
        OneDnnIsa.Sse41 => "SSE41",
        OneDnnIsa.Avx => "AVX",
        OneDnnIsa.Avx2 => "AVX2",
        OneDnnIsa.Avx2Vnni => "AVX2_VNNI",
        OneDnnIsa.Avx2Vnni2 => "AVX2_VNNI_2",
        OneDnnIsa.Avx512Core => "AVX512_CORE",
        OneDnnIsa.Avx512CoreVnni => "AVX512_CORE_VNNI",
        OneDnnIsa.Avx512CoreBf16 => "AVX512_CORE_BF16",
        OneDnnIsa.Avx512CoreFp16 => "AVX512_CORE_FP16",
        OneDnnIsa.Avx512CoreAmx => "AVX512_CORE_AMX",
        OneDnnIsa.Avx512CoreAmxFp16 => "AVX512_CORE_AMX_FP16",
        _ => isa.ToString(),
    };

    private static PrecisionChoice Float32(string reason) => new(ComputePrecision.Float32, reason);

    private static DeviceProfile Detect()
    {
        KernelGuard.Apply();
        return Create();
    }

    private static DeviceProfile Create() =>
        new(CpuFeatures.Detect(),
            Environment.GetEnvironmentVariable(KernelIsa.OneDnnCapVariable) ?? Environment.GetEnvironmentVariable(KernelIsa.LegacyOneDnnCapVariable),
            Environment.GetEnvironmentVariable(KernelIsa.AtenCapVariable),
            DetectCuda());

    /// <summary>
    /// The CUDA devices libtorch sees. TorchSharp exposes only their count, so names and compute capabilities come from
    /// <c>nvidia-smi</c> when it is installed (unknown otherwise).
    /// </summary>
    private static IReadOnlyList<CudaDeviceInfo> DetectCuda()
    {
        TorchRuntime.EnsureInitialized();
        if (!torch.cuda.is_available())
            return Array.Empty<CudaDeviceInfo>();
        int count = torch.cuda.device_count();
        var described = QueryNvidiaSmi();
        return Enumerable.Range(0, count)
            .Select(i => i < described.Count ? described[i] with { Index = i } : new CudaDeviceInfo(i, "unknown", null))
            .ToArray();
    }

    private static IReadOnlyList<CudaDeviceInfo> QueryNvidiaSmi()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "--query-gpu=name,compute_cap --format=csv,noheader")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
                return Array.Empty<CudaDeviceInfo>();
            var output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(5000) || process.ExitCode != 0)
                return Array.Empty<CudaDeviceInfo>();
            return ParseNvidiaSmi(output);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return Array.Empty<CudaDeviceInfo>();
        }
    }

    /// <summary>Parses <c>nvidia-smi --query-gpu=name,compute_cap --format=csv,noheader</c> ("NVIDIA H100 80GB HBM3, 9.0" per line).</summary>
    internal static IReadOnlyList<CudaDeviceInfo> ParseNvidiaSmi(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select((line, i) =>
            {
                var comma = line.LastIndexOf(',');
                var name = comma < 0 ? line : line[..comma].Trim();
                Version? capability = comma >= 0 && Version.TryParse(line[(comma + 1)..].Trim(), out var v) ? v : null;
                return new CudaDeviceInfo(i, name, capability);
            })
            .ToArray();
}
