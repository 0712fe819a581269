namespace FashionVision.AspNetCore.Tests;

/// <summary>The test process's resident memory from /proc/self/status (Linux), where the in-process server lives.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident memory now (VmRSS), in bytes.</summary>
    public static long Current => Read("VmRSS:");

    /// <summary>The peak resident memory since the last <see cref="ResetPeak"/> (VmHWM), in bytes.</summary>
    public static long Peak => Read("VmHWM:");

    /// <summary>Skips the test where the peak cannot be measured and reset (not Linux).</summary>
    public static void RequireLinux()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/clear_refs"))
            Assert.Ignore("peak resident memory is read from /proc/self/status and reset through /proc/self/clear_refs (Linux).");
    }

    /// <summary>Resets the peak to the current resident memory (writing 5 to /proc/self/clear_refs).</summary>
    public static void ResetPeak() => File.WriteAllText("/proc/self/clear_refs", "5");

    private static long Read(string key)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith(key, StringComparison.Ordinal));
        return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
    }
}
