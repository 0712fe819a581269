namespace FashionVision.Models;

/// <summary>The number format a model's convolutions compute in.</summary>
/// <remarks>
/// Weights, gradients, optimizer state, BatchNorm statistics and the classifier head stay in float32 either way (they are
/// the "master" copies); <see cref="BFloat16"/> only changes the format the convolutions multiply in, like PyTorch's
/// autocast. On CPUs with AVX-512 BF16 (Intel Cooper Lake and later, AMD Zen 4 and later) oneDNN runs bfloat16
/// convolutions at about twice the float32 rate; on CUDA, Ampere and later GPUs do. Elsewhere (AVX2-only CPUs) oneDNN
/// emulates bfloat16 and it is several times slower than float32: <see cref="Auto"/> picks for the machine.
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

    /// <summary>
    /// Chosen for the machine when a run starts: bfloat16 where the model supports it and the device computes bfloat16
    /// natively (x86 CPUs whose oneDNN level includes AVX512_BF16 or AMX, CUDA devices of compute capability 8.0 and up),
    /// float32 everywhere else (<see cref="Native.DeviceProfile.ChoosePrecision(ImageClassifier, TorchSharp.torch.Device)"/>). Only a
    /// <see cref="Training.Trainer"/> resolves it; a model's own <see cref="ImageClassifier.Precision"/> is always a concrete format.
    /// </summary>
    Auto,
}
