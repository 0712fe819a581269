using FashionVision.Models;

namespace FashionVision.Native;

/// <summary>The compute precision chosen for a run and why (see <see cref="DeviceProfile.ChoosePrecision(ImageClassifier, TorchSharp.torch.Device)"/>).</summary>
/// <param name="Precision"><see cref="ComputePrecision.Float32"/> or <see cref="ComputePrecision.BFloat16"/> (never <see cref="ComputePrecision.Auto"/>).</param>
/// <param name="Reason">One sentence a log reader can check against the machine, e.g. "oneDNN runs AVX512_CORE_BF16 kernels ...".</param>
public sealed record PrecisionChoice(ComputePrecision Precision, string Reason)
{
    /// <summary>The lower-case name used in files and logs: <c>float32</c> or <c>bfloat16</c>.</summary>
    public string Name => Precision == ComputePrecision.BFloat16 ? "bfloat16" : "float32";
}
