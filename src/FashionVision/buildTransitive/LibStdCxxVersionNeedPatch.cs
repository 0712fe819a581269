// Marks one symbol-version requirement of an ELF shared library as weak, so that the dynamic loader
// accepts the library on systems whose libstdc++ lacks that version.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13 and declares a need for
// GLIBCXX_3.4.32. The only symbol behind that version is _ZSt21ios_base_library_initv, a link-forcing
// reference emitted by GCC 13's <iostream> that the library never calls (it has no relocation against
// it). Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the loader refuses the whole library. Setting
// VER_FLG_WEAK on that one Vernaux entry turns the fatal error into nothing at all.
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory (as the PatchLibStdCxxVersionNeed
// task used by FashionVision.targets), and into the FashionVision library with FASHIONVISION_ELF_ONLY
// defined (which leaves out the MSBuild task and keeps the pure ELF logic, internal, for
// FashionVision.Native.TorchRuntime's diagnosis of a library that does not load).
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

#if !FASHIONVISION_ELF_ONLY
public sealed class PatchLibStdCxxVersionNeed : Microsoft.Build.Utilities.Task
{
    /// <summary>Shared libraries to patch (files that do not exist are skipped).</summary>
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    /// <summary>The symbol version to make weak.</summary>
    public string VersionName { get; set; } = "GLIBCXX_3.4.32";

    /// <summary>auto (patch only when the system libstdc++ lacks the version), always, or never.</summary>
    public string Mode { get; set; } = "auto";

    public override bool Execute()
    {
        if (string.Equals(Mode, "never", StringComparison.OrdinalIgnoreCase))
            return true;
        if (string.Equals(Mode, "auto", StringComparison.OrdinalIgnoreCase) && ElfVersionNeeds.SystemLibStdCxxHasVersion(VersionName))
        {
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, "System libstdc++ provides {0}; nothing to patch.", VersionName);
            return true;
        }
        foreach (var item in Libraries)
        {
            var path = item.ItemSpec;
            if (!File.Exists(path))
                continue;
            try
            {
                if (ElfVersionNeeds.MarkWeak(path, VersionName))
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal, "Marked the {0} requirement of {1} as weak.", VersionName, path);
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogWarning("Could not patch {0}: {1}", path, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif

/// <summary>One entry of an ELF library's version-needs table (<c>.gnu.version_r</c>).</summary>
internal readonly struct ElfVersionNeed
{
    public ElfVersionNeed(string file, string versionName, ushort flags, long flagsOffset)
    {
        File = file;
        VersionName = versionName;
        Flags = flags;
        FlagsOffset = flagsOffset;
    }

    /// <summary>The library that must provide the version, e.g. <c>libstdc++.so.6</c>.</summary>
    public string File { get; }

    /// <summary>The version name, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
    public string VersionName { get; }

    /// <summary>The Vernaux flags; bit 2 (<c>VER_FLG_WEAK</c>) makes a missing version non-fatal.</summary>
    public ushort Flags { get; }

    /// <summary>Byte offset of the flags field in the file.</summary>
    public long FlagsOffset { get; }

    /// <summary>True when the requirement is weak.</summary>
    public bool IsWeak => (Flags & ElfVersionNeeds.VerFlagWeak) != 0;
}

/// <summary>Reads and patches the version-needs table of 64-bit little-endian ELF files.</summary>
internal static class ElfVersionNeeds
{
    /// <summary>The <c>VER_FLG_WEAK</c> flag of a Vernaux entry.</summary>
    public const ushort VerFlagWeak = 0x2;

    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>Lists the version needs of an ELF image.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed 64-bit little-endian ELF image.</exception>
    public static List<ElfVersionNeed> Read(byte[] image)
    {
        try
        {
            return ReadUnchecked(image);
        }
        catch (Exception e) when (e is OverflowException || e is IndexOutOfRangeException)
        {
            throw new InvalidDataException("malformed ELF file: " + e.Message, e);
        }
    }

    private static List<ElfVersionNeed> ReadUnchecked(byte[] image)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (image[4] != 2 || image[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

        long sectionHeaders = checked((long)U64(image, 0x28));
        int sectionHeaderSize = U16(image, 0x3A);
        int sectionCount = U16(image, 0x3C);
        if (sectionHeaderSize < 64 || sectionHeaders <= 0 || sectionHeaders + (long)sectionHeaderSize * sectionCount > image.Length)
            throw new InvalidDataException("section header table lies outside the file");

        var needs = new List<ElfVersionNeed>();
        for (int s = 0; s < sectionCount; s++)
        {
            long header = sectionHeaders + (long)s * sectionHeaderSize;
            if (U32(image, header + 4) != ShtGnuVerneed)
                continue;
            long offset = checked((long)U64(image, header + 24));
            long size = checked((long)U64(image, header + 32));
            uint linkedStrings = U32(image, header + 40);
            uint entryCount = U32(image, header + 44);
            if (offset < 0 || offset + size > image.Length || linkedStrings >= sectionCount)
                throw new InvalidDataException("version-needs section lies outside the file");
            long stringsHeader = sectionHeaders + (long)linkedStrings * sectionHeaderSize;
            long strings = checked((long)U64(image, stringsHeader + 24));
            long stringsSize = checked((long)U64(image, stringsHeader + 32));

            long need = offset;
            for (uint n = 0; n < entryCount; n++)
            {
                RequireInside(image, need, 16, offset, size);
                int auxCount = U16(image, need + 2);
                string file = ReadString(image, strings, stringsSize, U32(image, need + 4));
                long aux = need + U32(image, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    RequireInside(image, aux, 16, offset, size);
                    string name = ReadString(image, strings, stringsSize, U32(image, aux + 8));
                    needs.Add(new ElfVersionNeed(file, name, U16(image, aux + 4), aux + 4));
                    uint nextAux = U32(image, aux + 12);
                    if (nextAux == 0)
                        break;
                    aux += nextAux;
                }
                uint next = U32(image, need + 12);
                if (next == 0)
                    break;
                need += next;
            }
        }
        return needs;
    }

    /// <summary>
    /// Marks every requirement named <paramref name="versionName"/> as weak, writing the result to a temporary
    /// file and renaming it over <paramref name="path"/> (which also breaks any hard link to a shared copy).
    /// </summary>
    /// <returns>True if the file was changed; false if it needed no change.</returns>
    public static bool MarkWeak(string path, string versionName)
    {
        byte[] image = File.ReadAllBytes(path);
        bool changed = false;
        foreach (var need in Read(image))
        {
            if (need.VersionName != versionName || need.IsWeak)
                continue;
            ushort flags = (ushort)(need.Flags | VerFlagWeak);
            image[need.FlagsOffset] = (byte)flags;
            image[need.FlagsOffset + 1] = (byte)(flags >> 8);
            changed = true;
        }
        if (!changed)
            return false;

        string temporary = path + ".fvpatch-" + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            File.WriteAllBytes(temporary, image);
            // On Unix, File.Replace is a rename(2): readers see the old file or the new one, never half of one.
            File.Replace(temporary, path, null);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        return true;
    }

    /// <summary>True when a libstdc++ found in the usual system library folders defines <paramref name="versionName"/>.</summary>
    public static bool SystemLibStdCxxHasVersion(string versionName)
    {
        var folders = new List<string>();
        var fromEnvironment = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
        if (!string.IsNullOrEmpty(fromEnvironment))
            folders.AddRange(fromEnvironment.Split(new[] { ':' }, StringSplitOptions.RemoveEmptyEntries));
        folders.AddRange(new[]
        {
            "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/aarch64-linux-gnu",
            "/usr/lib64", "/lib64", "/usr/lib", "/lib",
        });
        byte[] needle = Encoding.ASCII.GetBytes(versionName + "\0");
        foreach (var folder in folders)
        {
            string candidate = Path.Combine(folder, "libstdc++.so.6");
            if (!File.Exists(candidate))
                continue;
            // The first libstdc++ found is the one the loader would pick from these folders.
            return Contains(File.ReadAllBytes(candidate), needle);
        }
        return false;
    }

    // Written without spans: RoslynCodeTaskFactory compiles this file against netstandard2.0.
    private static bool Contains(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack[i] != needle[0])
                continue;
            int j = 1;
            while (j < needle.Length && haystack[i + j] == needle[j])
                j++;
            if (j == needle.Length)
                return true;
        }
        return false;
    }

    private static void RequireInside(byte[] image, long position, int length, long sectionStart, long sectionSize)
    {
        if (position < sectionStart || position + length > sectionStart + sectionSize || position + length > image.Length)
            throw new InvalidDataException("version-needs entry lies outside its section");
    }

    private static string ReadString(byte[] image, long table, long tableSize, uint index)
    {
        long start = table + index;
        if (index >= tableSize || start >= image.Length)
            throw new InvalidDataException("string index lies outside the string table");
        long end = start;
        while (end < image.Length && end < table + tableSize && image[end] != 0)
            end++;
        return Encoding.ASCII.GetString(image, (int)start, (int)(end - start));
    }

    private static ushort U16(byte[] b, long i) => (ushort)(b[i] | b[i + 1] << 8);

    private static uint U32(byte[] b, long i) => (uint)(b[i] | b[i + 1] << 8 | b[i + 2] << 16 | b[i + 3] << 24);

    private static ulong U64(byte[] b, long i) => U32(b, i) | (ulong)U32(b, i + 4) << 32;
}
