using FashionVision.Models;

namespace FashionVision.Native;

/// <summary>Placeholder until the cpu branch lands (it replaces this file).</summary>
public sealed class DeviceProfile
{
    /// <summary>The machine.</summary>
    public static DeviceProfile Current { get; } = new();

    /// <summary>The precision.</summary>
    public ComputePrecision PreferredPrecision(bool bfloat16Capable) => ComputePrecision.Float32;

    /// <summary>One line.</summary>
    public string Describe() => "?";
}
