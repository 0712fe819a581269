using System.Text;

namespace FashionVision.Tests.Native;

/// <summary>The native-loading fix: torch initialises here and trains, and the patcher does exactly one thing.</summary>
public class NativeLoadingTests
{
    private static string OutputLibrary =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [Test]
    public void TorchInitialisesAndRunsOneTrainingStep()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 26 * 26, 10));
        var optimizer = optim.SGD(model.parameters(), 0.1);
        var generator = new Generator(7);
        var images = rand(new long[] { 8, 1, 28, 28 }, generator: generator);
        var labels = randint(0, 10, new long[] { 8 }, generator: generator);

        var lossBefore = nn.functional.cross_entropy(model.call(images), labels);
        optimizer.zero_grad();
        lossBefore.backward();
        optimizer.step();
        var lossAfter = nn.functional.cross_entropy(model.call(images), labels);

        Assert.That(lossAfter.item<float>(), Is.LessThan(lossBefore.item<float>()));
    }

    [Test]
    public void OutputCopyIsWeakWhereTheSystemLacksTheVersion()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("ELF libraries exist on Linux only.");
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(OutputLibrary));
        var need = needs.Single(n => n.VersionName == "GLIBCXX_3.4.32");
        Assert.That(need.File, Is.EqualTo("libstdc++.so.6"));
        Assert.That(need.IsWeak, Is.EqualTo(!ElfVersionNeeds.SystemLibStdCxxHasVersion("GLIBCXX_3.4.32")));
        Assert.That(needs.Where(n => n.VersionName != "GLIBCXX_3.4.32").All(n => !n.IsWeak), Is.True,
            "only the one unused requirement may be weakened");
    }

    [Test]
    public void MarkWeakChangesOnlyTheFlagsOfTheNamedVersionAndIsIdempotent()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("ELF libraries exist on Linux only.");
        string copy = Path.Combine(Path.GetTempPath(), $"fv-elf-{Guid.NewGuid():N}.so");
        File.Copy(OutputLibrary, copy);
        try
        {
            var original = File.ReadAllBytes(copy);
            var target = ElfVersionNeeds.Read(original).Single(n => n.VersionName == "GLIBCXX_3.4.30");
            Assert.That(ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_3.4.30"), Is.True);
            var patched = File.ReadAllBytes(copy);

            var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToArray();
            Assert.That(differing, Is.EqualTo(new[] { (int)target.FlagsOffset }));
            Assert.That(ElfVersionNeeds.Read(patched).Single(n => n.VersionName == "GLIBCXX_3.4.30").IsWeak, Is.True);
            Assert.That(ElfVersionNeeds.MarkWeak(copy, "GLIBCXX_3.4.30"), Is.False, "a second patch changes nothing");
            Assert.That(Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(copy) + ".fvpatch-*"), Is.Empty);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    private static readonly TypeInitializationException TorchSharpFailure =
        new("TorchSharp.torch", new DllNotFoundException("libLibTorchSharp.so: version `GLIBCXX_3.4.32' not found (required by libLibTorchSharp.so)"));

    [Test]
    public void AnUnpatchedCopyIsExplainedWithTheFileTheImportAndTheProperty()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("ELF libraries exist on Linux only.");
        // An app folder as a project that references src/FashionVision without its targets has it: the copy still needs the version.
        string app = Path.Combine(Path.GetTempPath(), $"fv-app-{Guid.NewGuid():N}");
        string copy = Path.Combine(app, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        try
        {
            var bytes = File.ReadAllBytes(OutputLibrary);
            var need = ElfVersionNeeds.Read(bytes).Single(n => n.VersionName == "GLIBCXX_3.4.32");
            bytes[need.FlagsOffset] = (byte)(need.Flags & ~ElfVersionNeeds.VerFlagWeak);
            File.WriteAllBytes(copy, bytes);

            var e = Assert.Throws<InvalidOperationException>(() => FashionVision.Native.TorchRuntime.Probe(() => throw TorchSharpFailure, app))!;
            Assert.That(e.InnerException, Is.SameAs(TorchSharpFailure));
            Assert.That(e.Message, Does.StartWith("libtorch could not be loaded.").And.EndWith("(required by libLibTorchSharp.so)"), "the loader's own words close the message");
            if (ElfVersionNeeds.SystemLibStdCxxHasVersion("GLIBCXX_3.4.32"))
                Assert.That(e.Message, Does.Not.Contain("was not patched"), "this system provides the version: that is not the cause");
            else
                Assert.That(e.Message, Does.Contain(copy).And.Contain("was not patched").And.Contain("src/FashionVision/buildTransitive/FashionVision.targets")
                    .And.Contain("<Import Project=").And.Contain("FashionVisionPatchLibTorchSharp"));
        }
        finally
        {
            Directory.Delete(app, recursive: true);
        }
    }

    [Test]
    public void AnAppWithoutTheNativeLibraryIsToldToReferenceABackend()
    {
        string app = Path.Combine(Path.GetTempPath(), $"fv-app-{Guid.NewGuid():N}");
        Directory.CreateDirectory(app);
        try
        {
            var e = Assert.Throws<InvalidOperationException>(() => FashionVision.Native.TorchRuntime.Probe(() => throw TorchSharpFailure, app))!;
            Assert.That(e.Message, Does.Contain("TorchSharp-cpu"));
            Assert.DoesNotThrow(() => FashionVision.Native.TorchRuntime.Probe(() => { }, app), "a call that works passes through");
        }
        finally
        {
            Directory.Delete(app);
        }
    }

    [Test]
    public void NonElfInputIsRejected()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(Encoding.ASCII.GetBytes("this is not a shared library at all, just text padding it out to 64+ bytes")));
        var truncated = File.ReadAllBytes(OutputLibrary).AsSpan(0, 200).ToArray();
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(truncated));
    }
}
