namespace FashionVision.Native;

/// <summary>One CUDA device as <see cref="DeviceProfile"/> sees it.</summary>
/// <param name="Index">The device index (<c>cuda:Index</c>).</param>
/// <param name="Name">The device's name ("unknown" when nvidia-smi is not available).</param>
/// <param name="ComputeCapability">Major and minor compute capability (8.0 = Ampere A100), or null when unknown.</param>
public sealed record CudaDeviceInfo(int Index, string Name, Version? ComputeCapability)
{
    /// <summary>Whether the device has native bfloat16 tensor-core arithmetic (compute capability 8.0 or higher).</summary>
    public bool HasNativeBFloat16 => ComputeCapability is { Major: >= 8 };
}
