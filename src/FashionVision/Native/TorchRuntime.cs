using System.Runtime.InteropServices;
using TorchSharp;

namespace FashionVision.Native;

/// <summary>
/// Checks that libtorch loads and explains why when it does not, instead of a bare <see cref="TypeInitializationException"/>.
/// </summary>
/// <remarks>
/// The library's first entry points (dataset sources' <c>Load</c>, <c>ModelZoo.Create</c>, the <c>Trainer</c>) call
/// <see cref="EnsureInitialized"/>, so an app whose native libraries cannot load fails there with what is missing and how
/// to fix it. On Linux it looks at the copy of <c>libLibTorchSharp.so</c> beside the app: a copy that still needs
/// <c>GLIBCXX_3.4.32</c> on a system whose libstdc++ lacks it (GCC older than 13: Debian 12, Ubuntu 22.04) was not
/// patched by <c>FashionVision.targets</c>, which happens when a project references <c>src/FashionVision</c> directly
/// and does not import the targets.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The symbol version TorchSharp 0.107's <c>libLibTorchSharp.so</c> declares but never uses.</summary>
    internal const string UnusedLibStdCxxVersion = "GLIBCXX_3.4.32";

    /// <summary>The MSBuild file that marks that need weak in an app's build output (<c>src/FashionVision/buildTransitive/</c>).</summary>
    internal const string TargetsFile = "FashionVision.targets";

    /// <summary>The MSBuild property that controls the patch.</summary>
    internal const string PatchProperty = "FashionVisionPatchLibTorchSharp";

    private static readonly object Gate = new();
    private static bool s_initialised;

    /// <summary>
    /// Initialises libtorch once. Call it at start-up to fail early with a helpful message; every FashionVision entry point
    /// that creates tensors calls it too.
    /// </summary>
    /// <exception cref="InvalidOperationException">The native libraries could not be loaded; the message says what to check.</exception>
    public static void EnsureInitialized()
    {
        lock (Gate)
        {
            if (s_initialised)
                return;
            KernelGuard.Apply();
            Probe(static () => torch.zeros(1).Dispose(), AppContext.BaseDirectory);
            s_initialised = true;
        }
    }

    /// <summary>Runs <paramref name="firstTorchCall"/>; a native loading failure becomes an explained <see cref="InvalidOperationException"/>.</summary>
    internal static void Probe(Action firstTorchCall, string appDirectory)
    {
        try
        {
            firstTorchCall();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException or EntryPointNotFoundException)
        {
            throw new InvalidOperationException(Explain(e, appDirectory), e);
        }
    }

    /// <summary>Why libtorch did not load, and what fixes it, in one paragraph.</summary>
    internal static string Explain(Exception e, string appDirectory)
    {
        string cause = (OperatingSystem.IsLinux() ? DiagnoseLinux(appDirectory) : null)
            ?? "Reference a backend package in your app (TorchSharp-cpu for the CPU, a libtorch-cuda package for CUDA).";
        var inner = e;
        while (inner.InnerException is not null)
            inner = inner.InnerException;
        return $"libtorch could not be loaded. {cause} Inner error: {inner.Message}";
    }

    /// <summary>What is wrong with the app's copy of <c>libLibTorchSharp.so</c>, or null when nothing specific is.</summary>
    internal static string? DiagnoseLinux(string appDirectory)
    {
        string architecture = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "arm64" : "x64";
        var copies = new[]
            {
                Path.Combine(appDirectory, "runtimes", $"linux-{architecture}", "native", "libLibTorchSharp.so"),
                Path.Combine(appDirectory, "libLibTorchSharp.so"),
            }
            .Where(File.Exists)
            .ToList();
        if (copies.Count == 0)
            return $"The app's folder ({appDirectory}) holds no libLibTorchSharp.so: reference TorchSharp-cpu (or a libtorch-cuda package) in the app itself.";
        foreach (string copy in copies)
        {
            bool needsVersion;
            try
            {
                needsVersion = ElfVersionNeeds.Read(File.ReadAllBytes(copy)).Any(n => n.VersionName == UnusedLibStdCxxVersion && !n.IsWeak);
            }
            catch (Exception readError) when (readError is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                continue;
            }
            if (needsVersion && !ElfVersionNeeds.SystemLibStdCxxHasVersion(UnusedLibStdCxxVersion))
            {
                return $"{copy} needs {UnusedLibStdCxxVersion}, which this system's libstdc++ lacks (GCC older than 13: Debian 12, " +
                       "Ubuntu 22.04), and was not patched. The FashionVision package patches the app's copy when the app builds; " +
                       "a project that references src/FashionVision/FashionVision.csproj directly must import the same targets: add " +
                       $"<Import Project=\"<FashionVision repository>/src/FashionVision/buildTransitive/{TargetsFile}\" /> to its project " +
                       $"file and rebuild (MSBuild property {PatchProperty}: auto by default, 'always' to patch when building elsewhere " +
                       "for such a system, 'never' to leave the copy alone).";
            }
        }
        return null;
    }
}
