using System.Runtime.InteropServices;

namespace FashionVision.AspNetCore;

/// <summary>
/// Gives decoding memory back to the operating system. Decoding a large image allocates many large native buffers (libtorch
/// tensors) and one large managed one (the RGBA pixels). Freed, glibc keeps most of the native ones in the heap of the thread
/// that decoded, where the next decode (on another thread, in another heap) does not reuse them, so resident memory would grow
/// past the decoding budget and stay near its peak after a burst; the GC keeps the managed one until its next full
/// collection. So a request that decoded at least <see cref="MinimumPixels"/> runs glibc's <c>malloc_trim</c> before it gives
/// its pixels back to the budget (a few milliseconds, only for large uploads), and when the last decode in flight finishes a
/// background task runs a full collection and trims again, at most once per <see cref="MinimumInterval"/>.
/// </summary>
internal sealed class DecodeMemoryReclaimer
{
    /// <summary>Pixels decoded (about 120 MB of buffers) before a reclaim is worth its few milliseconds.</summary>
    public const long MinimumPixels = 1024L * 1024;

    /// <summary>The least time between two reclaims.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);

    private static bool _trimAvailable = OperatingSystem.IsLinux();
    private readonly object _gate = new();
    private long _pixelsSinceReclaim;
    private long _lastReclaim = Environment.TickCount64 - (long)MinimumInterval.TotalMilliseconds;
    private bool _running;

    /// <summary>Reclaims run so far.</summary>
    public int Reclaims { get; private set; }

    /// <summary>Called when a request's images are decoded, before its pixels are given back: trims the native heap after a large decode.</summary>
    /// <param name="pixels">The pixels it decoded.</param>
    public static void AfterDecoding(long pixels)
    {
        if (pixels >= MinimumPixels)
            TrimNativeHeap();
    }

    /// <summary>Called after a request's pixels are given back: a full collection and a trim once nothing is being decoded.</summary>
    /// <param name="pixels">The pixels it decoded.</param>
    /// <param name="idle">Whether nothing else is being decoded now.</param>
    public void AfterRelease(long pixels, bool idle)
    {
        lock (_gate)
        {
            _pixelsSinceReclaim += pixels;
            if (!idle || _running || _pixelsSinceReclaim < MinimumPixels || Environment.TickCount64 - _lastReclaim < MinimumInterval.TotalMilliseconds)
                return;
            _pixelsSinceReclaim = 0;
            _running = true;
        }
        _ = Task.Run(Reclaim);
    }

    private void Reclaim()
    {
        try
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            TrimNativeHeap();
        }
        finally
        {
            lock (_gate)
            {
                _running = false;
                _lastReclaim = Environment.TickCount64;
                Reclaims++;
            }
        }
    }

    /// <summary>glibc's <c>malloc_trim(0)</c>: returns the free pages of every malloc arena to the system. Nothing elsewhere (musl, macOS, Windows).</summary>
    private static void TrimNativeHeap()
    {
        if (!_trimAvailable)
            return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _trimAvailable = false;
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code for this one blittable call.
    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);
#pragma warning restore SYSLIB1054
}
