using System.Globalization;

namespace FashionVision.Tests;

/// <summary>The process's resident set on Linux: the current size, the peak (VmHWM), and a reset of the peak.</summary>
internal static class ProcessMemory
{
    /// <summary>Resets the peak resident set size to the current one (writing 5 to /proc/self/clear_refs) and returns it in bytes.</summary>
    public static long ResetPeak()
    {
        File.WriteAllText("/proc/self/clear_refs", "5");
        return Read("VmRSS");
    }

    /// <summary>The peak resident set size since the process started or the last <see cref="ResetPeak"/>, in bytes.</summary>
    public static long PeakBytes() => Read("VmHWM");

    private static long Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return 1024 * long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"/proc/self/status has no {field} line.");
    }
}
