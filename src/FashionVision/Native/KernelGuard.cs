using System.Runtime.InteropServices;

namespace FashionVision.Native;

/// <summary>
/// Keeps libtorch off convolution kernels known to compute wrong results on this CPU, before its first kernel runs.
/// </summary>
/// <remarks>
/// <para>On AMD CPUs of family 26 (Zen 5), oneDNN's JIT convolution kernels in libtorch 2.10 return wrong values
/// (measured on an AMD EPYC Zen 5 VM, 2026-12-06: 3×3 convolutions with 1–24 input and 6–48 output channels at 4–28 px
/// off by 0.25–0.75 of their largest output, or NaN, forward and backward, at every level from AVX through AVX-512; at
/// SSE4.1 every case matched a float64 reference to 1.1e-6), so fast-cnn's training diverged there. On such a CPU, unless
/// the user set <c>ONEDNN_MAX_CPU_ISA</c> (or <c>DNNL_MAX_CPU_ISA</c>) already, the guard sets
/// <c>ONEDNN_MAX_CPU_ISA=SSE41</c> in the process environment (the native one, which oneDNN reads at its first
/// primitive): correct, and about 1.6× slower than AVX2 for fast-cnn. <see cref="DeviceProfile"/> then reports SSE4.1 as
/// the effective level, so <see cref="Models.ComputePrecision.Auto"/> chooses float32. <c>fashionvision system</c> measures the convolution error
/// of the effective kernels, so the cap can be checked, or lifted with <c>FASHIONVISION_KERNEL_GUARD=off</c>.</para>
/// <para>The guard runs from <see cref="TorchRuntime.EnsureInitialized"/>, which every library entry point calls before it
/// creates a tensor. An app that runs convolutions through TorchSharp before touching FashionVision should call
/// <see cref="TorchRuntime.EnsureInitialized"/> first.</para>
/// </remarks>
public static class KernelGuard
{
    /// <summary>The variable that turns the guard off (<c>off</c>, <c>0</c> or <c>false</c>).</summary>
    public const string SwitchVariable = "FASHIONVISION_KERNEL_GUARD";

    /// <summary>The level oneDNN is capped at where <see cref="Reason"/> says so.</summary>
    public const string CappedIsa = "SSE41";

    private static readonly object Gate = new();
    private static bool s_applied;

    /// <summary>What the guard did in this process, in one sentence, or null when it changed nothing.</summary>
    public static string? Applied { get; private set; }

    /// <summary>Why <paramref name="cpu"/> needs oneDNN capped, or null when it does not.</summary>
    /// <param name="cpu">The CPU.</param>
    public static string? Reason(CpuFeatures cpu)
    {
        ArgumentNullException.ThrowIfNull(cpu);
        if (cpu.Vendor == "AuthenticAMD" && cpu.Family == 26 && cpu.Avx512F)
            return $"oneDNN's AVX and AVX-512 convolution kernels compute wrong results on AMD family 26 (Zen 5) CPUs such as this {cpu.ModelName}";
        return null;
    }

    /// <summary>Applies the cap once per process where <see cref="Reason"/> says so (see the remarks).</summary>
    public static void Apply()
    {
        lock (Gate)
        {
            if (s_applied)
                return;
            s_applied = true;
            if (Environment.GetEnvironmentVariable(SwitchVariable) is { } value && value.Trim().ToLowerInvariant() is "off" or "0" or "false")
                return;
            if (Environment.GetEnvironmentVariable(KernelIsa.OneDnnCapVariable) is not null || Environment.GetEnvironmentVariable(KernelIsa.LegacyOneDnnCapVariable) is not null)
                return;
            if (!OperatingSystem.IsLinux() || Reason(CpuFeatures.Detect()) is not { } reason)
                return;
            Environment.SetEnvironmentVariable(KernelIsa.OneDnnCapVariable, CappedIsa);
            if (setenv(KernelIsa.OneDnnCapVariable, CappedIsa, 1) != 0)
                return;
            Applied = $"{KernelIsa.OneDnnCapVariable}={CappedIsa} set: {reason} (set {SwitchVariable}=off to lift the cap).";
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
