using System.Runtime.InteropServices;
using X86 = System.Runtime.Intrinsics.X86;
using Arm = System.Runtime.Intrinsics.Arm;

namespace FashionVision.Native;

/// <summary>
/// What the CPU is: its model name, core counts and the instruction-set features that decide which kernels libtorch
/// (oneDNN) and ONNX Runtime run. Feature names are the Linux kernel's <c>/proc/cpuinfo</c> flags (x86:
/// <c>avx2</c>, <c>fma</c>, <c>avx512f</c>, <c>avx512_bf16</c>, <c>avx512_vnni</c>, <c>avx_vnni</c>, <c>amx_bf16</c>,
/// <c>amx_int8</c>, ...; ARM64: <c>asimd</c>, <c>bf16</c>, <c>i8mm</c>, <c>sve</c>, ...).
/// </summary>
/// <remarks>
/// On Linux the features come from <c>/proc/cpuinfo</c>, which lists everything the kernel enabled (AMX only appears when
/// the kernel lets processes use it). Elsewhere they come from .NET's <c>System.Runtime.Intrinsics</c> <c>IsSupported</c>
/// checks, which know the common x86 and ARM64 extensions but not AVX512_BF16, AMX or ARM's bf16/i8mm: a machine described
/// that way never claims a feature it may lack.
/// </remarks>
public sealed record CpuFeatures
{
    /// <summary>The process architecture (X64, Arm64, ...).</summary>
    public Architecture Architecture { get; init; } = RuntimeInformation.ProcessArchitecture;

    /// <summary>The CPU's model name, e.g. "AMD EPYC 7B13" ("unknown" when the system does not say).</summary>
    public string ModelName { get; init; } = "unknown";

    /// <summary>Logical processors the system lists (hardware threads).</summary>
    public int LogicalProcessors { get; init; }

    /// <summary>Physical cores, when the system says (<c>cpu cores</c> × sockets in <c>/proc/cpuinfo</c>), else null.</summary>
    public int? PhysicalCores { get; init; }

    /// <summary>The feature flags, lower case, in the kernel's spelling.</summary>
    public IReadOnlySet<string> Flags { get; init; } = new HashSet<string>();

    /// <summary>Where the features came from: <c>/proc/cpuinfo</c> or <c>System.Runtime.Intrinsics</c>.</summary>
    public string Source { get; init; } = "";

    /// <summary>The vendor string (x86: <c>AuthenticAMD</c>, <c>GenuineIntel</c>), or null where unknown.</summary>
    public string? Vendor { get; init; }

    /// <summary>The x86 CPU family (e.g. 25 = AMD Zen 3 and 4, 26 = AMD Zen 5), or null where unknown.</summary>
    public int? Family { get; init; }

    /// <summary>Whether the CPU lists <paramref name="flag"/> (kernel spelling, e.g. <c>avx512_bf16</c>).</summary>
    public bool Has(string flag) => Flags.Contains(flag);

    /// <summary>x86: AVX2.</summary>
    public bool Avx2 => Has("avx2");

    /// <summary>x86: fused multiply-add (FMA3).</summary>
    public bool Fma => Has("fma");

    /// <summary>x86: AVX-512 Foundation.</summary>
    public bool Avx512F => Has("avx512f");

    /// <summary>x86: the AVX-512 subset oneDNN calls <c>avx512_core</c> (F, BW, VL and DQ).</summary>
    public bool Avx512Core => Avx512F && Has("avx512bw") && Has("avx512vl") && Has("avx512dq");

    /// <summary>x86: AVX-512 bfloat16 dot products (Intel Cooper Lake and Sapphire Rapids on, AMD Zen 4 on).</summary>
    public bool Avx512Bf16 => Has("avx512_bf16");

    /// <summary>x86: AVX-512 VNNI (8-bit dot products into 32 bits).</summary>
    public bool Avx512Vnni => Has("avx512_vnni");

    /// <summary>x86: the VEX-encoded (256-bit) VNNI of Alder Lake and Zen 5.</summary>
    public bool AvxVnni => Has("avx_vnni");

    /// <summary>x86: AMX tiles with bfloat16 (Sapphire Rapids on).</summary>
    public bool AmxBf16 => Has("amx_bf16");

    /// <summary>x86: AMX tiles with int8.</summary>
    public bool AmxInt8 => Has("amx_int8");

    /// <summary>x86: any VNNI form (AVX-512 VNNI, AVX-VNNI or AMX-INT8): 8-bit dot products that accumulate in 32 bits without saturating.</summary>
    public bool Vnni => Avx512Vnni || AvxVnni || AmxInt8;

    /// <summary>ARM64: Advanced SIMD (NEON).</summary>
    public bool Neon => Has("asimd");

    /// <summary>ARM64: bfloat16 instructions (BFDOT, BFMMLA).</summary>
    public bool ArmBf16 => Has("bf16");

    /// <summary>ARM64: 8-bit integer matrix multiply (SMMLA, UMMLA).</summary>
    public bool I8mm => Has("i8mm");

    /// <summary>ARM64: the Scalable Vector Extension.</summary>
    public bool Sve => Has("sve");

    /// <summary>ARM64: 8-bit dot products (SDOT/UDOT).</summary>
    public bool DotProduct => Has("asimddp");

    /// <summary>The features this machine has, read once per process.</summary>
    public static CpuFeatures Detect()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                var parsed = ParseProcCpuinfo(File.ReadAllText("/proc/cpuinfo"));
                if (parsed.Flags.Count > 0)
                    return parsed;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Fall through to the intrinsics checks.
            }
        }
        return FromIntrinsics();
    }

    /// <summary>
    /// Parses the text of Linux's <c>/proc/cpuinfo</c>: the first processor's model name and flags (x86 <c>flags</c>, ARM64
    /// <c>Features</c>), the number of processors, and the physical cores (<c>cpu cores</c> × distinct <c>physical id</c>s).
    /// </summary>
    /// <param name="text">The file's text.</param>
    /// <param name="architecture">The architecture to report (default: this process's).</param>
    public static CpuFeatures ParseProcCpuinfo(string text, Architecture? architecture = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        string? model = null;
        HashSet<string>? flags = null;
        int processors = 0;
        int? coresPerSocket = null;
        var sockets = new HashSet<string>();
        string? armPart = null, armImplementer = null, vendor = null;
        int? family = null;
        foreach (var rawLine in text.Split('\n'))
        {
            var colon = rawLine.IndexOf(':');
            if (colon < 0)
                continue;
            var key = rawLine[..colon].Trim().ToLowerInvariant();
            var value = rawLine[(colon + 1)..].Trim();
            switch (key)
            {
                case "processor":
                    processors++;
                    break;
                case "model name" or "hardware" or "cpu model":
                    model ??= value.Length > 0 ? value : null;
                    break;
                case "flags" or "features":
                    flags ??= value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => f.ToLowerInvariant()).ToHashSet();
                    break;
                case "cpu cores" when int.TryParse(value, out var cores):
                    coresPerSocket ??= cores;
                    break;
                case "physical id":
                    sockets.Add(value);
                    break;
                case "vendor_id":
                    vendor ??= value;
                    break;
                case "cpu family" when int.TryParse(value, out var f):
                    family ??= f;
                    break;
                case "cpu implementer":
                    armImplementer ??= value;
                    break;
                case "cpu part":
                    armPart ??= value;
                    break;
            }
        }
        model ??= armPart is null ? null : $"ARM implementer {armImplementer ?? "?"} part {armPart}";
        return new CpuFeatures
        {
            Architecture = architecture ?? RuntimeInformation.ProcessArchitecture,
            ModelName = model ?? "unknown",
            LogicalProcessors = processors,
            PhysicalCores = coresPerSocket is { } c ? c * Math.Max(1, sockets.Count) : null,
            Flags = flags ?? new HashSet<string>(),
            Vendor = vendor,
            Family = family,
            Source = "/proc/cpuinfo",
        };
    }

    /// <summary>The features .NET's hardware-intrinsics checks report (the fallback off Linux).</summary>
    public static CpuFeatures FromIntrinsics()
    {
        var flags = new HashSet<string>();
        void Add(bool supported, string flag)
        {
            if (supported) flags.Add(flag);
        }
        Add(X86.Sse41.IsSupported, "sse4_1");
        Add(X86.Avx.IsSupported, "avx");
        Add(X86.Avx2.IsSupported, "avx2");
        Add(X86.Fma.IsSupported, "fma");
        Add(X86.Avx512F.IsSupported, "avx512f");
        Add(X86.Avx512BW.IsSupported, "avx512bw");
        Add(X86.Avx512DQ.IsSupported, "avx512dq");
        Add(X86.Avx512F.VL.IsSupported, "avx512vl");
#if NET9_0_OR_GREATER
        Add(X86.AvxVnni.IsSupported, "avx_vnni"); // a preview API on .NET 8
#endif
        Add(Arm.AdvSimd.IsSupported, "asimd");
        Add(Arm.Dp.IsSupported, "asimddp");
        string model = Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown";
        return new CpuFeatures
        {
            ModelName = model,
            LogicalProcessors = Environment.ProcessorCount,
            Flags = flags,
            Source = "System.Runtime.Intrinsics",
        };
    }

    /// <summary>The features that matter for deep-learning kernels, in a fixed order, for reports (e.g. "AVX2 FMA AVX-512F AVX512_BF16").</summary>
    public IReadOnlyList<string> NotableFeatures()
    {
        (bool Present, string Name)[] x86 =
        [
            (Avx2, "AVX2"), (Fma, "FMA"), (Avx512F, "AVX-512F"), (Avx512Bf16, "AVX512_BF16"), (Avx512Vnni, "AVX512_VNNI"),
            (AvxVnni, "AVX-VNNI"), (AmxBf16, "AMX-BF16"), (AmxInt8, "AMX-INT8"),
        ];
        (bool Present, string Name)[] arm = [(Neon, "NEON"), (DotProduct, "DOTPROD"), (ArmBf16, "BF16"), (I8mm, "I8MM"), (Sve, "SVE")];
        return x86.Concat(arm).Where(f => f.Present).Select(f => f.Name).ToArray();
    }
}
