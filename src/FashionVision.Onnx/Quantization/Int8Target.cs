using FashionVision.Native;

namespace FashionVision.Onnx;

/// <summary>
/// The CPU class an INT8 model is quantized for. It decides the weight range: ONNX Runtime's x86 integer kernels multiply
/// uint8 activations by int8 weights, and on CPUs without VNNI they use <c>VPMADDUBSW</c>, which adds two adjacent
/// products into a saturating int16. Full-range weights (±127) can overflow it (2 × 255 × 127 = 64,770 > 32,767) and the
/// model's accuracy drops; 7-bit weights (±63, ONNX Runtime's own <c>reduce_range</c>) cannot (2 × 255 × 63 = 32,130).
/// </summary>
public enum Int8Target
{
    /// <summary>Chosen from this machine's CPU (<see cref="DeviceProfile"/>): <see cref="Vnni"/> where it has VNNI (AVX512_VNNI, AVX-VNNI or AMX-INT8), <see cref="Portable"/> elsewhere.</summary>
    Auto,

    /// <summary>x86 CPUs with VNNI, whose dot products accumulate in int32: full-range weights (±127), the finest step. Can saturate on CPUs without VNNI.</summary>
    Vnni,

    /// <summary>x86 CPUs with AVX2 or AVX-512 but without VNNI: 7-bit weights (±63), so <c>VPMADDUBSW</c> cannot saturate.</summary>
    Avx2,

    /// <summary>Any CPU ONNX Runtime runs on (x86 with or without VNNI, ARM64): 7-bit weights (±63), the form that is right everywhere at half a bit of weight precision.</summary>
    Portable,
}

/// <summary>The INT8 encoding a quantization used and why (see <see cref="Resolve(Int8Target, CpuFeatures?)"/>).</summary>
/// <param name="Target">The resolved target (never <see cref="Int8Target.Auto"/>).</param>
/// <param name="WeightMax">The largest weight magnitude: 127 (full range) or 63 (7-bit, non-saturating).</param>
/// <param name="Reason">One sentence: why this target (for logs and the model's metadata).</param>
public sealed record Int8TargetChoice(Int8Target Target, int WeightMax, string Reason)
{
    /// <summary>Full-range int8 weights.</summary>
    public const int FullRangeWeightMax = 127;

    /// <summary>7-bit weights: the largest magnitude for which two uint8 × int8 products always fit an int16 (2 × 255 × 63 ≤ 32,767).</summary>
    public const int ReducedRangeWeightMax = 63;

    /// <summary>The lower-case name written to files and printed: <c>vnni</c>, <c>avx2</c> or <c>portable</c>.</summary>
    public string Name => Target.ToString().ToLowerInvariant();

    /// <summary>Resolves <paramref name="requested"/>; <see cref="Int8Target.Auto"/> reads <paramref name="cpu"/> (default: this machine's).</summary>
    /// <remarks>
    /// ONNX Runtime picks its integer kernels from the CPU itself (oneDNN's caps do not apply to it), so Auto reads the CPU's
    /// features, not the effective oneDNN level. A model made with Auto on a VNNI machine is for VNNI machines: export with
    /// <see cref="Int8Target.Portable"/> to ship one file to every CPU.
    /// </remarks>
    public static Int8TargetChoice Resolve(Int8Target requested, CpuFeatures? cpu = null)
    {
        switch (requested)
        {
            case Int8Target.Vnni:
                return new(Int8Target.Vnni, FullRangeWeightMax, "requested vnni: full-range weights (±127) for CPUs with VNNI; they can saturate on CPUs without it.");
            case Int8Target.Avx2:
                return new(Int8Target.Avx2, ReducedRangeWeightMax, "requested avx2: 7-bit weights (±63), so ONNX Runtime's VPMADDUBSW kernels cannot saturate.");
            case Int8Target.Portable:
                return new(Int8Target.Portable, ReducedRangeWeightMax, "requested portable: 7-bit weights (±63), right on every CPU.");
            case Int8Target.Auto:
                cpu ??= DeviceProfile.Current.Cpu;
                if (cpu.Vnni)
                {
                    var which = string.Join("/", new[] { (cpu.Avx512Vnni, "AVX512_VNNI"), (cpu.AvxVnni, "AVX-VNNI"), (cpu.AmxInt8, "AMX-INT8") }.Where(f => f.Item1).Select(f => f.Item2));
                    return new(Int8Target.Vnni, FullRangeWeightMax,
                        $"auto: this CPU ({cpu.ModelName}) has {which}, so full-range weights (±127); export with --int8-target portable for CPUs without VNNI.");
                }
                return new(Int8Target.Portable, ReducedRangeWeightMax,
                    $"auto: this CPU ({cpu.ModelName}) has no VNNI, so 7-bit weights (±63) that ONNX Runtime's VPMADDUBSW kernels cannot saturate.");
            default:
                throw new ArgumentOutOfRangeException(nameof(requested), requested, "Unknown INT8 target.");
        }
    }
}
