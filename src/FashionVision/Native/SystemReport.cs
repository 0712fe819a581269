using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using FashionVision.Models;
using TorchSharp;

namespace FashionVision.Native;

/// <summary>
/// What this machine is, for a bug report or beside a measured figure (like PyTorch's <c>torch.utils.collect_env</c>): the
/// CPU and the instruction sets libtorch will use, the OS and C library, .NET, TorchSharp and libtorch, thread settings,
/// CUDA devices, the state of the libstdc++ patch, a short float32/bfloat16 probe and what
/// <see cref="ComputePrecision.Auto"/> chooses for fast-cnn.
/// </summary>
public sealed record SystemReport
{
    /// <summary>The CPU's model name.</summary>
    public required string CpuModel { get; init; }

    /// <summary>The process architecture (X64, Arm64, ...).</summary>
    public required string Architecture { get; init; }

    /// <summary>Physical cores, when the system says.</summary>
    public int? PhysicalCores { get; init; }

    /// <summary>Logical processors (hardware threads) the system lists.</summary>
    public int LogicalProcessors { get; init; }

    /// <summary>Logical processors this process may use (<see cref="Environment.ProcessorCount"/>, affinity and container limits applied).</summary>
    public int ProcessorsAvailable { get; init; }

    /// <summary>The features that matter for the kernels (AVX2, FMA, AVX-512F, AVX512_BF16, AVX512_VNNI, AVX-VNNI, AMX, NEON, ...).</summary>
    public required IReadOnlyList<string> CpuFeatures { get; init; }

    /// <summary>Where the features came from (<c>/proc/cpuinfo</c> or <c>System.Runtime.Intrinsics</c>).</summary>
    public required string CpuFeatureSource { get; init; }

    /// <summary>The highest oneDNN level the CPU supports (oneDNN's spelling).</summary>
    public required string OneDnnIsaDetected { get; init; }

    /// <summary>The value of <c>ONEDNN_MAX_CPU_ISA</c>, or null.</summary>
    public string? OneDnnIsaCap { get; init; }

    /// <summary>The level oneDNN runs.</summary>
    public required string OneDnnIsaEffective { get; init; }

    /// <summary>The highest ATen kernel build the CPU supports.</summary>
    public required string AtenCapabilityDetected { get; init; }

    /// <summary>The value of <c>ATEN_CPU_CAPABILITY</c>, or null.</summary>
    public string? AtenCapabilityCap { get; init; }

    /// <summary>The ATen build libtorch runs.</summary>
    public required string AtenCapabilityEffective { get; init; }

    /// <summary>Problems with the environment's caps.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();

    /// <summary>The operating system (<see cref="RuntimeInformation.OSDescription"/>).</summary>
    public required string OperatingSystem { get; init; }

    /// <summary>The C library, e.g. "glibc 2.36" (null when it cannot be told).</summary>
    public string? CLibrary { get; init; }

    /// <summary>The .NET runtime, e.g. ".NET 10.0.0".</summary>
    public required string DotNet { get; init; }

    /// <summary>The TorchSharp assembly's version.</summary>
    public required string TorchSharpVersion { get; init; }

    /// <summary>The libtorch package the app ships (from its deps.json), e.g. "libtorch-cpu 2.10.0", or null when not found.</summary>
    public string? LibTorchPackage { get; init; }

    /// <summary>libtorch's intra-op threads (<c>torch.get_num_threads()</c>).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>libtorch's inter-op threads (<c>torch.get_num_interop_threads()</c>).</summary>
    public int InterOpThreads { get; init; }

    /// <summary>The value of <c>OMP_NUM_THREADS</c>, or null when unset.</summary>
    public string? OmpNumThreads { get; init; }

    /// <summary>The CUDA devices.</summary>
    public IReadOnlyList<CudaDeviceInfo> CudaDevices { get; init; } = Array.Empty<CudaDeviceInfo>();

    /// <summary>The state of the app's libLibTorchSharp.so with respect to its unused GLIBCXX_3.4.32 need (Linux only; null elsewhere).</summary>
    public string? LibStdCxxPatch { get; init; }

    /// <summary>The float32/bfloat16 probe on the CPU, or null when it was not run.</summary>
    public ComputeProbeResult? Probe { get; init; }

    /// <summary>What <see cref="ComputePrecision.Auto"/> chooses for fast-cnn on the CPU.</summary>
    public required PrecisionChoice AutoPrecisionFastCnn { get; init; }

    /// <summary>Collects the report; the probe takes about <paramref name="probeBudget"/> plus warm-up.</summary>
    /// <param name="runProbe">Whether to run the float32/bfloat16 probe.</param>
    /// <param name="probeBudget">The probe's measuring time (default 0.8 s).</param>
    public static SystemReport Collect(bool runProbe = true, TimeSpan? probeBudget = null)
    {
        TorchRuntime.EnsureInitialized();
        var profile = DeviceProfile.Current;
        var cpu = profile.Cpu;
        var supportsBf16 = ModelZoo.Contains("fast-cnn") && FastCnnSupportsBFloat16();
        return new SystemReport
        {
            CpuModel = cpu.ModelName,
            Architecture = cpu.Architecture.ToString(),
            PhysicalCores = cpu.PhysicalCores,
            LogicalProcessors = cpu.LogicalProcessors > 0 ? cpu.LogicalProcessors : Environment.ProcessorCount,
            ProcessorsAvailable = Environment.ProcessorCount,
            CpuFeatures = cpu.NotableFeatures(),
            CpuFeatureSource = cpu.Source,
            OneDnnIsaDetected = DeviceProfile.IsaName(profile.DetectedIsa),
            OneDnnIsaCap = profile.OneDnnCapValue,
            OneDnnIsaEffective = DeviceProfile.IsaName(profile.EffectiveIsa),
            AtenCapabilityDetected = profile.DetectedAten.ToString().ToLowerInvariant(),
            AtenCapabilityCap = profile.AtenCapValue,
            AtenCapabilityEffective = profile.EffectiveAten.ToString().ToLowerInvariant(),
            Warnings = profile.Warnings,
            OperatingSystem = RuntimeInformation.OSDescription,
            CLibrary = CLibraryVersion(),
            DotNet = RuntimeInformation.FrameworkDescription,
            TorchSharpVersion = InformationalVersion(typeof(torch).Assembly),
            LibTorchPackage = FindLibTorchPackage(),
            IntraOpThreads = torch.get_num_threads(),
            InterOpThreads = torch.get_num_interop_threads(),
            OmpNumThreads = Environment.GetEnvironmentVariable("OMP_NUM_THREADS"),
            CudaDevices = profile.CudaDevices,
            LibStdCxxPatch = System.OperatingSystem.IsLinux() ? LibStdCxxPatchState(AppContext.BaseDirectory) : null,
            Probe = runProbe ? ComputeProbe.Run(torch.CPU, probeBudget) : null,
            AutoPrecisionFastCnn = profile.ChoosePrecision(supportsBf16, "FastCnn", DeviceType.CPU),
        };
    }

    /// <summary>The report as aligned text sections (CPU, kernels, software, threads, CUDA, probe, Auto precision).</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        void Line(string name, object? value) => sb.Append("  ").Append((name + ":").PadRight(26)).AppendLine(value?.ToString() ?? "(not set)");
        sb.AppendLine("CPU");
        Line("Model", CpuModel);
        Line("Architecture", Architecture);
        Line("Cores / threads", $"{(PhysicalCores?.ToString() ?? "?")} / {LogicalProcessors} ({ProcessorsAvailable} available to this process)");
        Line("Features", CpuFeatures.Count == 0 ? "(none of note)" : string.Join(' ', CpuFeatures));
        Line("Feature source", CpuFeatureSource);
        sb.AppendLine("Kernels");
        Line("oneDNN ISA", $"{OneDnnIsaEffective} (CPU supports {OneDnnIsaDetected}; ONEDNN_MAX_CPU_ISA={OneDnnIsaCap ?? "unset"})");
        Line("ATen capability", $"{AtenCapabilityEffective} (CPU supports {AtenCapabilityDetected}; ATEN_CPU_CAPABILITY={AtenCapabilityCap ?? "unset"})");
        foreach (var warning in Warnings)
            Line("Warning", warning);
        sb.AppendLine("Software");
        Line("OS", OperatingSystem);
        Line("C library", CLibrary ?? "unknown");
        Line(".NET", DotNet);
        Line("TorchSharp", TorchSharpVersion);
        Line("libtorch", LibTorchPackage ?? "unknown (no libtorch package in the app's deps.json)");
        Line("libstdc++ patch", LibStdCxxPatch ?? "n/a");
        sb.AppendLine("Threads");
        Line("torch intra-op", IntraOpThreads);
        Line("torch inter-op", InterOpThreads);
        Line("OMP_NUM_THREADS", OmpNumThreads);
        sb.AppendLine("CUDA");
        if (CudaDevices.Count == 0)
            Line("Devices", "none");
        foreach (var d in CudaDevices)
            Line($"cuda:{d.Index}", $"{d.Name}, compute capability {(d.ComputeCapability?.ToString(2) ?? "unknown")}");
        sb.AppendLine("Probe (CPU, GFLOP/s; lower while other processes load the machine)");
        if (Probe is { } p)
        {
            Line("Conv fwd+bwd float32", p.Float32Conv.ToString("F1"));
            Line("Conv fwd+bwd bfloat16", $"{p.BFloat16Conv:F1} ({p.BFloat16ConvSpeedup:F2}× float32)");
            Line("Matmul float32", p.Float32Matmul.ToString("F1"));
            Line("Matmul bfloat16", p.BFloat16Matmul.ToString("F1"));
            Line("Conv correctness", p.ConvolutionsCorrect
                ? $"ok (relative error float32 {p.Float32ConvError:0.0e+0}, bfloat16 {p.BFloat16ConvError:0.0e+0} against float64)"
                : $"WRONG: relative error float32 {p.Float32ConvError:0.0e+0}, bfloat16 {p.BFloat16ConvError:0.0e+0} against float64 " +
                  $"(tolerances {ComputeProbeResult.Float32Tolerance:0e+0} and {ComputeProbeResult.BFloat16Tolerance:0e+0}); libtorch's convolution kernels " +
                  $"at {OneDnnIsaEffective} compute wrong results here: try ONEDNN_MAX_CPU_ISA=AVX2");
        }
        else
        {
            Line("Probe", "not run");
        }
        sb.AppendLine("Auto precision");
        Line("fast-cnn on the CPU", $"{AutoPrecisionFastCnn.Name}: {AutoPrecisionFastCnn.Reason}");
        return sb.ToString();
    }

    /// <summary>
    /// The state of the app's <c>libLibTorchSharp.so</c>: whether it needs <c>GLIBCXX_3.4.32</c> (TorchSharp 0.107's unused
    /// need), whether that need is weak (patched by <c>FashionVision.targets</c>), and whether the system's libstdc++ has it.
    /// </summary>
    internal static string LibStdCxxPatchState(string appDirectory)
    {
        string architecture = RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "x64";
        var copy = new[]
            {
                Path.Combine(appDirectory, "runtimes", $"linux-{architecture}", "native", "libLibTorchSharp.so"),
                Path.Combine(appDirectory, "libLibTorchSharp.so"),
            }
            .FirstOrDefault(File.Exists);
        if (copy is null)
            return "no libLibTorchSharp.so beside the app";
        bool systemHas = ElfVersionNeeds.SystemLibStdCxxHasVersion(TorchRuntime.UnusedLibStdCxxVersion);
        string system = $"system libstdc++ {(systemHas ? "has" : "lacks")} {TorchRuntime.UnusedLibStdCxxVersion}";
        try
        {
            var needs = ElfVersionNeeds.Read(File.ReadAllBytes(copy)).Where(n => n.VersionName == TorchRuntime.UnusedLibStdCxxVersion).ToList();
            if (needs.Count == 0)
                return $"not needed ({system})";
            var need = needs[0];
            return need.IsWeak ? $"patched (the {TorchRuntime.UnusedLibStdCxxVersion} need is weak; {system})" : $"not patched ({system})";
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return $"unreadable ({e.Message})";
        }
    }

    private static bool FastCnnSupportsBFloat16()
    {
        using var model = ModelZoo.Create("fast-cnn");
        return model.SupportsBFloat16;
    }

    [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
    private static extern IntPtr GnuGetLibcVersion();

    private static string? CLibraryVersion()
    {
        if (!System.OperatingSystem.IsLinux())
            return null;
        try
        {
            return Marshal.PtrToStringAnsi(GnuGetLibcVersion()) is { } v ? $"glibc {v}" : null;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "not glibc (musl?)";
        }
    }

    private static string InformationalVersion(Assembly assembly)
    {
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";
        var plus = version.IndexOf('+');
        return plus < 0 ? version : version[..plus];
    }

    /// <summary>The libtorch package and version the app's deps.json lists (e.g. "libtorch-cpu-linux-x64 2.10.0").</summary>
    private static string? FindLibTorchPackage()
    {
        var depsFile = AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string;
        var candidates = (depsFile ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(Directory.Exists(AppContext.BaseDirectory) ? Directory.EnumerateFiles(AppContext.BaseDirectory, "*.deps.json") : []);
        foreach (var file in candidates.Where(File.Exists))
        {
            var match = Regex.Match(File.ReadAllText(file), "\"(libtorch-(?:cpu|cuda)[A-Za-z0-9.-]*)/([0-9][0-9A-Za-z.+-]*)\"");
            if (match.Success)
                return $"{match.Groups[1].Value} {match.Groups[2].Value}";
        }
        return null;
    }
}
