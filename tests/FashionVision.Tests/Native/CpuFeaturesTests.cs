using System.Runtime.InteropServices;
using FashionVision.Native;

namespace FashionVision.Tests.Native;

/// <summary>Parsing /proc/cpuinfo text, and the kernel levels and environment caps that follow from the features.</summary>
public class CpuFeaturesTests
{
    /// <summary>Two logical processors of an AVX2-only AMD Zen 3 (EPYC 7B13, as cloud VMs show it), abridged.</summary>
    internal const string Zen3Avx2 = """
        processor	: 0
        vendor_id	: AuthenticAMD
        cpu family	: 25
        model		: 1
        model name	: AMD EPYC 7B13
        physical id	: 0
        siblings	: 2
        cpu cores	: 1
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ht syscall nx mmxext lm pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm sse4a bmi1 avx2 smep bmi2 erms invpcid rdseed adx clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr arat npt nrip_save umip vaes vpclmulqdq rdpid fsrm

        processor	: 1
        vendor_id	: AuthenticAMD
        model name	: AMD EPYC 7B13
        physical id	: 0
        siblings	: 2
        cpu cores	: 1
        flags		: fpu vme de pse tsc msr pae mce cx8 apic sse sse2 ht syscall nx mmxext lm pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm sse4a bmi1 avx2 smep bmi2 erms invpcid rdseed adx clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr arat npt nrip_save umip vaes vpclmulqdq rdpid fsrm

        """;

    /// <summary>One logical processor of an AVX-512 machine with BF16 and VNNI (an AMD EPYC Zen 4/5 VM), abridged.</summary>
    internal const string Avx512Bf16 = """
        processor	: 0
        vendor_id	: AuthenticAMD
        cpu family	: 26
        model name	: AMD EPYC 9B45
        physical id	: 0
        cpu cores	: 2
        flags		: fpu sse sse2 pni ssse3 fma cx16 sse4_1 sse4_2 avx f16c avx2 avx512f avx512dq avx512ifma avx512cd avx512bw avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vbmi2 avx512_vnni avx512_bitalg avx512_vpopcntdq

        """;

    /// <summary>A Sapphire Rapids Xeon with AMX, abridged.</summary>
    private const string SapphireRapids = """
        processor	: 0
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu sse sse2 sse4_1 avx fma avx2 avx512f avx512dq avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni avx512_fp16 amx_bf16 amx_tile amx_int8

        """;

    /// <summary>An ARM64 Neoverse V1 (Graviton 3), as the kernel lists it.</summary>
    private const string Graviton3 = """
        processor	: 0
        BogoMIPS	: 2100.00
        Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng
        CPU implementer	: 0x41
        CPU part	: 0xd40

        """;

    [Test]
    public void AZen3IsAvx2AndFmaWithoutAvx512Bf16OrVnni()
    {
        var cpu = CpuFeatures.ParseProcCpuinfo(Zen3Avx2, Architecture.X64);

        Assert.Multiple(() =>
        {
            Assert.That(cpu.ModelName, Is.EqualTo("AMD EPYC 7B13"));
            Assert.That(cpu.LogicalProcessors, Is.EqualTo(2));
            Assert.That(cpu.PhysicalCores, Is.EqualTo(1));
            Assert.That(cpu.Avx2 && cpu.Fma, Is.True);
            Assert.That(cpu.Avx512F || cpu.Avx512Bf16 || cpu.Vnni || cpu.AmxBf16, Is.False);
            Assert.That(cpu.NotableFeatures(), Is.EqualTo(new[] { "AVX2", "FMA" }));
            Assert.That(KernelIsa.Detect(cpu), Is.EqualTo(OneDnnIsa.Avx2));
            Assert.That(KernelIsa.DetectAten(cpu), Is.EqualTo(AtenCapability.Avx2));
        });
    }

    [Test]
    public void AnAvx512Bf16MachineReachesOneDnnsBf16Level()
    {
        var cpu = CpuFeatures.ParseProcCpuinfo(Avx512Bf16, Architecture.X64);

        Assert.Multiple(() =>
        {
            Assert.That(cpu.ModelName, Is.EqualTo("AMD EPYC 9B45"));
            Assert.That(cpu.PhysicalCores, Is.EqualTo(2));
            Assert.That(cpu.Avx512Core && cpu.Avx512Bf16 && cpu.Avx512Vnni && cpu.AvxVnni && cpu.Vnni, Is.True);
            Assert.That(cpu.AmxBf16, Is.False);
            Assert.That(cpu.NotableFeatures(), Is.EqualTo(new[] { "AVX2", "FMA", "AVX-512F", "AVX512_BF16", "AVX512_VNNI", "AVX-VNNI" }));
            Assert.That(KernelIsa.Detect(cpu), Is.EqualTo(OneDnnIsa.Avx512CoreBf16));
            Assert.That(KernelIsa.DetectAten(cpu), Is.EqualTo(AtenCapability.Avx512));
        });
    }

    [Test]
    public void AmxAndArmFeaturesAreRead()
    {
        var spr = CpuFeatures.ParseProcCpuinfo(SapphireRapids, Architecture.X64);
        var arm = CpuFeatures.ParseProcCpuinfo(Graviton3, Architecture.Arm64);

        Assert.Multiple(() =>
        {
            Assert.That(spr.AmxBf16 && spr.AmxInt8, Is.True);
            Assert.That(KernelIsa.Detect(spr), Is.EqualTo(OneDnnIsa.Avx512CoreAmx));
            Assert.That(arm.Neon && arm.ArmBf16 && arm.I8mm && arm.Sve && arm.DotProduct, Is.True);
            Assert.That(arm.ModelName, Does.Contain("0xd40"));
            Assert.That(arm.NotableFeatures(), Is.EqualTo(new[] { "NEON", "DOTPROD", "BF16", "I8MM", "SVE" }));
        });
    }

    [TestCase(null, null)]
    [TestCase("", null)]
    [TestCase("ALL", null)]
    [TestCase("default", null)]
    [TestCase("AVX2", OneDnnIsa.Avx2)]
    [TestCase("avx2", OneDnnIsa.Avx2)]
    [TestCase("AVX2_VNNI", OneDnnIsa.Avx2Vnni)]
    [TestCase("AVX512_CORE", OneDnnIsa.Avx512Core)]
    [TestCase("AVX512_CORE_VNNI", OneDnnIsa.Avx512CoreVnni)]
    [TestCase(" AVX512_CORE_BF16 ", OneDnnIsa.Avx512CoreBf16)]
    [TestCase("AVX10_1_512", OneDnnIsa.Avx512CoreFp16)]
    [TestCase("AVX512_CORE_AMX", OneDnnIsa.Avx512CoreAmx)]
    public void OneDnnCapsParse(string? value, OneDnnIsa? expected) =>
        Assert.That(KernelIsa.ParseOneDnnCap(value), Is.EqualTo(expected));

    [Test]
    public void UnknownCapsAreRefusedByTheParserAndIgnoredByTheProfile()
    {
        Assert.Throws<ArgumentException>(() => KernelIsa.ParseOneDnnCap("AVX3"));
        Assert.Throws<ArgumentException>(() => KernelIsa.ParseAtenCap("avx1024"));
        var profile = new DeviceProfile(CpuFeatures.ParseProcCpuinfo(Avx512Bf16, Architecture.X64), oneDnnCap: "AVX3", atenCap: "avx1024");
        Assert.Multiple(() =>
        {
            Assert.That(profile.EffectiveIsa, Is.EqualTo(OneDnnIsa.Avx512CoreBf16));
            Assert.That(profile.EffectiveAten, Is.EqualTo(AtenCapability.Avx512));
            Assert.That(profile.Warnings, Has.Count.EqualTo(2));
            Assert.That(profile.Warnings[0], Does.Contain("ONEDNN_MAX_CPU_ISA").And.Contain("AVX3"));
        });
    }

    [TestCase("default", AtenCapability.Default)]
    [TestCase("AVX2", AtenCapability.Avx2)]
    [TestCase("avx512", AtenCapability.Avx512)]
    public void AtenCapsParse(string value, AtenCapability expected) =>
        Assert.That(KernelIsa.ParseAtenCap(value), Is.EqualTo(expected));

    [TestCase(OneDnnIsa.Avx512CoreBf16, null, OneDnnIsa.Avx512CoreBf16)]
    [TestCase(OneDnnIsa.Avx512CoreBf16, OneDnnIsa.Avx2, OneDnnIsa.Avx2)]
    [TestCase(OneDnnIsa.Avx512CoreBf16, OneDnnIsa.Avx512CoreVnni, OneDnnIsa.Avx512CoreVnni)]
    [TestCase(OneDnnIsa.Avx512CoreBf16, OneDnnIsa.Avx512CoreAmx, OneDnnIsa.Avx512CoreBf16)]
    [TestCase(OneDnnIsa.Avx512CoreBf16, OneDnnIsa.Avx2Vnni, OneDnnIsa.Avx2)] // AVX2_VNNI's VEX VNNI bit is not in an AVX-512 level
    [TestCase(OneDnnIsa.Avx2, OneDnnIsa.Avx512CoreBf16, OneDnnIsa.Avx2)] // a cap never raises the level
    [TestCase(OneDnnIsa.Avx512CoreAmx, OneDnnIsa.Avx512CoreBf16, OneDnnIsa.Avx512CoreBf16)]
    public void TheEffectiveLevelIsTheHighestSupportedOneWithinTheCap(OneDnnIsa detected, OneDnnIsa? cap, OneDnnIsa expected) =>
        Assert.That(KernelIsa.Effective(detected, cap), Is.EqualTo(expected));

    [Test]
    public void AtenCapsLowerButNeverRaise()
    {
        Assert.Multiple(() =>
        {
            Assert.That(KernelIsa.EffectiveAten(AtenCapability.Avx512, AtenCapability.Avx2), Is.EqualTo(AtenCapability.Avx2));
            Assert.That(KernelIsa.EffectiveAten(AtenCapability.Avx2, AtenCapability.Avx512), Is.EqualTo(AtenCapability.Avx2));
            Assert.That(KernelIsa.EffectiveAten(AtenCapability.Avx512, null), Is.EqualTo(AtenCapability.Avx512));
        });
    }

    [Test]
    public void ThisMachinesFeaturesAreDetected()
    {
        var cpu = CpuFeatures.Detect();
        Assert.That(cpu.Source, Is.Not.Empty);
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
            Assert.That(cpu.Avx2, Is.EqualTo(System.Runtime.Intrinsics.X86.Avx2.IsSupported), "the kernel's flags and .NET's intrinsics agree on AVX2");
    }
}
