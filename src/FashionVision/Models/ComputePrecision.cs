namespace FashionVision.Models;

/// <summary>The number format a model's convolutions compute in.</summary>
/// <remarks>
/// Weights, gradients, optimizer state, BatchNorm statistics and the classifier head stay in float32 either way (they are
/// the "master" copies); <see cref="BFloat16"/> only changes the format the convolutions multiply in, like PyTorch's
/// autocast. On CPUs with AVX-512 BF16 (Intel Cooper Lake and later, AMD Zen 4 and later) oneDNN runs bfloat16
/// convolutions at about twice the float32 rate; on CUDA, Ampere and later GPUs do.
/// </remarks>
public enum ComputePrecision
{
    /// <summary>Everything in float32 (the default).</summary>
    Float32,

    /// <summary>
    /// Convolutions multiply bfloat16 copies of their inputs and weights (with float32 accumulation); normalisation,
    /// the head and everything stored stay float32.
    /// </summary>
    BFloat16,

    /// <summary>Resolved when training starts: bfloat16 where the device computes it natively and the model supports it, float32 otherwise.</summary>
    Auto,
}
