namespace FashionVision.Native;

/// <summary>
/// oneDNN's x86 instruction-set levels (its <c>dnnl_cpu_isa_t</c>, with the same bit masks: a level is allowed under a cap
/// when all its bits are in the cap's). libtorch runs convolutions and matrix products through oneDNN, so this level
/// decides, for example, whether a bfloat16 convolution runs on native bfloat16 dot products or is emulated in float32.
/// </summary>
public enum OneDnnIsa
{
    /// <summary>No vector ISA oneDNN's x86 kernels use (or not an x86 CPU).</summary>
    None = 0x0,

    /// <summary>SSE4.1.</summary>
    Sse41 = 0x1,

    /// <summary>AVX.</summary>
    Avx = 0x3,

    /// <summary>AVX2 (with FMA).</summary>
    Avx2 = 0x7,

    /// <summary>AVX2 with AVX-VNNI.</summary>
    Avx2Vnni = 0xf,

    /// <summary>AVX2 with AVX-VNNI-INT8 and AVX-NE-CONVERT.</summary>
    Avx2Vnni2 = 0x1f,

    /// <summary>AVX-512 F, BW, VL and DQ.</summary>
    Avx512Core = 0x27,

    /// <summary>AVX-512 with VNNI.</summary>
    Avx512CoreVnni = 0x67,

    /// <summary>AVX-512 with bfloat16 dot products.</summary>
    Avx512CoreBf16 = 0xe7,

    /// <summary>AVX-512 with float16 arithmetic (AVX10.1/512).</summary>
    Avx512CoreFp16 = 0x1ef,

    /// <summary>AVX-512 with AMX tiles (int8 and bfloat16).</summary>
    Avx512CoreAmx = 0xfef,

    /// <summary>AVX-512 with AMX tiles including float16.</summary>
    Avx512CoreAmxFp16 = 0x1fef,
}

/// <summary>ATen's own vectorised kernels (<c>ATEN_CPU_CAPABILITY</c>): element-wise operations, reductions, normalisation.</summary>
public enum AtenCapability
{
    /// <summary>The scalar/SSE build of the kernels.</summary>
    Default,

    /// <summary>The AVX2 build.</summary>
    Avx2,

    /// <summary>The AVX-512 build.</summary>
    Avx512,
}

/// <summary>
/// The instruction-set levels libtorch will use on a CPU: what the CPU supports, capped by the environment variables that
/// libtorch and oneDNN read at start-up (<c>ONEDNN_MAX_CPU_ISA</c>, or its older name <c>DNNL_MAX_CPU_ISA</c>, and
/// <c>ATEN_CPU_CAPABILITY</c>). Setting <c>ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2</c> on an AVX-512 machine runs
/// the kernels an AVX2-only machine runs.
/// </summary>
public static class KernelIsa
{
    /// <summary>The environment variable that caps oneDNN's instruction set.</summary>
    public const string OneDnnCapVariable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>oneDNN's older name for <see cref="OneDnnCapVariable"/> (read when the new one is not set).</summary>
    public const string LegacyOneDnnCapVariable = "DNNL_MAX_CPU_ISA";

    /// <summary>The environment variable that picks ATen's kernel build.</summary>
    public const string AtenCapVariable = "ATEN_CPU_CAPABILITY";

    private static readonly OneDnnIsa[] Levels = Enum.GetValues<OneDnnIsa>().OrderByDescending(l => (int)l).ToArray();

    /// <summary>The highest oneDNN level the CPU supports.</summary>
    public static OneDnnIsa Detect(CpuFeatures cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (cpu.Avx512Core)
        {
            if (cpu.AmxBf16 && cpu.AmxInt8 && cpu.Avx512Bf16)
                return cpu.Has("amx_fp16") && cpu.Has("avx512_fp16") ? OneDnnIsa.Avx512CoreAmxFp16 : OneDnnIsa.Avx512CoreAmx;
            if (cpu.Has("avx512_fp16") && cpu.Avx512Bf16)
                return OneDnnIsa.Avx512CoreFp16;
            if (cpu.Avx512Bf16 && cpu.Avx512Vnni)
                return OneDnnIsa.Avx512CoreBf16;
            return cpu.Avx512Vnni ? OneDnnIsa.Avx512CoreVnni : OneDnnIsa.Avx512Core;
        }
        if (cpu.Avx2 && cpu.Fma)
        {
            if (cpu.AvxVnni && cpu.Has("avx_vnni_int8") && cpu.Has("avx_ne_convert"))
                return OneDnnIsa.Avx2Vnni2;
            return cpu.AvxVnni ? OneDnnIsa.Avx2Vnni : OneDnnIsa.Avx2;
        }
        if (cpu.Has("avx"))
            return OneDnnIsa.Avx;
        return cpu.Has("sse4_1") ? OneDnnIsa.Sse41 : OneDnnIsa.None;
    }

    /// <summary>
    /// Parses a value of <c>ONEDNN_MAX_CPU_ISA</c> (case-insensitive: <c>SSE41</c>, <c>AVX</c>, <c>AVX2</c>,
    /// <c>AVX2_VNNI</c>, <c>AVX2_VNNI_2</c>, <c>AVX512_CORE</c>, <c>AVX512_CORE_VNNI</c>, <c>AVX512_CORE_BF16</c>,
    /// <c>AVX512_CORE_FP16</c> or <c>AVX10_1_512</c>, <c>AVX512_CORE_AMX</c> or <c>AVX10_1_512_AMX</c>,
    /// <c>AVX512_CORE_AMX_FP16</c> or <c>AVX10_1_512_AMX_FP16</c>, <c>ALL</c>/<c>DEFAULT</c>).
    /// </summary>
    /// <returns>The cap, or null for no cap (unset, empty, <c>ALL</c> or <c>DEFAULT</c>).</returns>
    /// <exception cref="ArgumentException">The value is not one oneDNN knows (oneDNN itself then ignores it).</exception>
    public static OneDnnIsa? ParseOneDnnCap(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        return value.Trim().ToUpperInvariant() switch
        {
            "ALL" or "DEFAULT" => null,
            "SSE41" => OneDnnIsa.Sse41,
            "AVX" => OneDnnIsa.Avx,
            "AVX2" => OneDnnIsa.Avx2,
            "AVX2_VNNI" => OneDnnIsa.Avx2Vnni,
            "AVX2_VNNI_2" => OneDnnIsa.Avx2Vnni2,
            "AVX512_CORE" => OneDnnIsa.Avx512Core,
            "AVX512_CORE_VNNI" => OneDnnIsa.Avx512CoreVnni,
            "AVX512_CORE_BF16" => OneDnnIsa.Avx512CoreBf16,
            "AVX512_CORE_FP16" or "AVX10_1_512" => OneDnnIsa.Avx512CoreFp16,
            "AVX512_CORE_AMX" or "AVX10_1_512_AMX" => OneDnnIsa.Avx512CoreAmx,
            "AVX512_CORE_AMX_FP16" or "AVX10_1_512_AMX_FP16" => OneDnnIsa.Avx512CoreAmxFp16,
            _ => throw new ArgumentException($"'{value}' is not a oneDNN ISA name (e.g. AVX2, AVX512_CORE, AVX512_CORE_BF16, AVX512_CORE_AMX, ALL).", nameof(value)),
        };
    }

    /// <summary>The level oneDNN runs: the highest level the CPU supports whose bits all lie within the cap.</summary>
    public static OneDnnIsa Effective(OneDnnIsa detected, OneDnnIsa? cap)
    {
        if (cap is not { } c)
            return detected;
        return Levels.First(l => Includes(detected, l) && Includes(c, l));
    }

    /// <summary>Whether <paramref name="level"/> includes everything <paramref name="required"/> does (oneDNN's mask test).</summary>
    public static bool Includes(OneDnnIsa level, OneDnnIsa required) => ((int)level & (int)required) == (int)required;

    /// <summary>The highest ATen kernel build the CPU supports (AVX-512 needs F, BW, VL and DQ; AVX2 needs FMA too).</summary>
    public static AtenCapability DetectAten(CpuFeatures cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (cpu.Avx512Core)
            return AtenCapability.Avx512;
        return cpu.Avx2 && cpu.Fma ? AtenCapability.Avx2 : AtenCapability.Default;
    }

    /// <summary>Parses a value of <c>ATEN_CPU_CAPABILITY</c> (<c>default</c>, <c>avx2</c>, <c>avx512</c>; case-insensitive); null when unset.</summary>
    /// <exception cref="ArgumentException">The value is not one of those (other architectures' values such as <c>zvector</c> included).</exception>
    public static AtenCapability? ParseAtenCap(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            return null;
        return value.Trim().ToLowerInvariant() switch
        {
            "default" => AtenCapability.Default,
            "avx2" => AtenCapability.Avx2,
            "avx512" => AtenCapability.Avx512,
            _ => throw new ArgumentException($"'{value}' is not an x86 ATen CPU capability (default, avx2, avx512).", nameof(value)),
        };
    }

    /// <summary>The ATen build libtorch runs: the lower of what the CPU supports and the cap.</summary>
    public static AtenCapability EffectiveAten(AtenCapability detected, AtenCapability? cap) =>
        cap is { } c && c < detected ? c : detected;
}
