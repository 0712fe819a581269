using System.Runtime.InteropServices;

namespace FashionVision.Native;

/// <summary>
/// Keeps libtorch off convolution kernels known to compute wrong results on this CPU, before its first kernel runs.
/// </summary>
/// <remarks>
/// <para>On AMD CPUs of family 26 (Zen 5), oneDNN's AVX-512 convolution kernels in libtorch 2.10 return wrong values for
/// some shapes (measured on an AMD EPYC Zen 5 VM: a 3×3 convolution with 24 channels off by 0.2–0.4 of its largest output
/// in float32, NaN in bfloat16, at every AVX-512 level oneDNN offers, on one thread too; 32 and 64 channels were right),
/// so fast-cnn's training diverged there. With oneDNN capped at AVX2 the same convolutions match a float64 reference to
/// 5e-7. On such a CPU, unless the user set <c>ONEDNN_MAX_CPU_ISA</c> (or <c>DNNL_MAX_CPU_ISA</c>) already, the guard
/// sets <c>ONEDNN_MAX_CPU_ISA=AVX2</c> in the process environment (the native one, which oneDNN reads at its first
/// primitive). <see cref="DeviceProfile"/> then reports AVX2 as the effective level, so
/// <see cref="Models.ComputePrecision.Auto"/> chooses float32. <c>fashionvision system</c> measures the convolution error
/// of the effective kernels, so the cap can be checked, or lifted with <c>FASHIONVISION_KERNEL_GUARD=off</c>.</para>
/// <para>The guard runs from <see cref="TorchRuntime.EnsureInitialized"/>, which every library entry point calls before it
/// creates a tensor. An app that runs convolutions through TorchSharp before touching FashionVision should call
/// <see cref="TorchRuntime.EnsureInitialized"/> first.</para>
/// </remarks>
public static class KernelGuard
{
    /// <summary>The variable that turns the guard off (<c>off</c>, <c>0</c> or <c>false</c>).</summary>
    public const string SwitchVariable = "FASHIONVISION_KERNEL_GUARD";

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
            return $"oneDNN's AVX-512 convolutions compute wrong results on AMD family 26 (Zen 5) CPUs such as this {cpu.ModelName}";
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
            Environment.SetEnvironmentVariable(KernelIsa.OneDnnCapVariable, "AVX2");
            if (setenv(KernelIsa.OneDnnCapVariable, "AVX2", 1) != 0)
                return;
            Applied = $"{KernelIsa.OneDnnCapVariable}=AVX2 set: {reason} (set {SwitchVariable}=off to lift the cap).";
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setenv(string name, string value, int overwrite);
}
