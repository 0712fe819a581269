using System.Runtime.InteropServices;
using TorchSharp;

namespace FashionVision.Native;

/// <summary>
/// Checks that libtorch loads and explains why when it does not, instead of a bare <see cref="TypeInitializationException"/>.
/// </summary>
public static class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool s_initialised;

    /// <summary>
    /// Initialises libtorch once. Call it at start-up to fail early with a helpful message; every FashionVision entry point
    /// that creates tensors works without it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The native libraries could not be loaded; the message says what to check.</exception>
    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (s_initialised)
                return;
            try
            {
                using var probe = torch.zeros(1);
                s_initialised = true;
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new InvalidOperationException(Explain(e), e);
            }
        }
    }

    private static string Explain(Exception e)
    {
        var message = "libtorch could not be loaded. ";
        message += "Reference a backend package in your app (TorchSharp-cpu for CPU, a libtorch-cuda package for CUDA). ";
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            message += "On Linux systems older than GCC 13 (Debian 12, Ubuntu 22.04), libLibTorchSharp.so must have its GLIBCXX_3.4.32 " +
                       "requirement marked weak: the FashionVision package does this in your build output automatically unless " +
                       "FashionVisionPatchLibTorchSharp is 'never'; if you copy files by hand, copy the patched one from bin/. ";
        }
        return message + "Inner error: " + (e.InnerException?.Message ?? e.Message);
    }
}
