using System.Runtime.InteropServices;
using FashionVision.Models;
using FashionVision.Native;
using FashionVision.Training;
using FashionVision.Tests.Training;

namespace FashionVision.Tests.Native;

/// <summary>ComputePrecision.Auto's rule for each feature combination, and its resolution by the Trainer.</summary>
public class DeviceProfileTests
{
    private static DeviceProfile X86(string cpuinfo, string? oneDnnCap = null, string? atenCap = null) =>
        new(CpuFeatures.ParseProcCpuinfo(cpuinfo, Architecture.X64), oneDnnCap, atenCap);

    private static CpuFeatures Flags(params string[] flags) =>
        new() { Architecture = Architecture.X64, ModelName = "test CPU", Flags = flags.ToHashSet() };

    [Test]
    public void AnAvx512Bf16CpuChoosesBFloat16ForAModelThatSupportsIt()
    {
        var choice = X86(CpuFeaturesTests.Avx512Bf16).ChoosePrecision(true, "FastCnn", DeviceType.CPU);
        Assert.That(choice.Precision, Is.EqualTo(ComputePrecision.BFloat16));
        Assert.That(choice.Reason, Does.Contain("AVX512_CORE_BF16"));
    }

    [Test]
    public void AnAvx2OnlyCpuChoosesFloat32()
    {
        var choice = X86(CpuFeaturesTests.Zen3Avx2).ChoosePrecision(true, "FastCnn", DeviceType.CPU);
        Assert.That(choice.Precision, Is.EqualTo(ComputePrecision.Float32));
        Assert.That(choice.Reason, Does.Contain("no AVX512_BF16").And.Contain("AMD EPYC 7B13"));
    }

    [Test]
    public void AModelWithoutBFloat16SupportGetsFloat32EvenOnABf16Cpu()
    {
        var choice = X86(CpuFeaturesTests.Avx512Bf16).ChoosePrecision(false, "LeNet5", DeviceType.CPU);
        Assert.That(choice.Precision, Is.EqualTo(ComputePrecision.Float32));
        Assert.That(choice.Reason, Does.Contain("LeNet5"));
    }

    [TestCase("AVX2", ComputePrecision.Float32)]
    [TestCase("AVX512_CORE_VNNI", ComputePrecision.Float32)]
    [TestCase("AVX512_CORE_BF16", ComputePrecision.BFloat16)]
    [TestCase("AVX512_CORE_AMX", ComputePrecision.BFloat16)]
    public void AOneDnnCapBelowBf16TurnsBFloat16Off(string cap, ComputePrecision expected)
    {
        var profile = X86(CpuFeaturesTests.Avx512Bf16, oneDnnCap: cap);
        var choice = profile.ChoosePrecision(true, "FastCnn", DeviceType.CPU);
        Assert.That(choice.Precision, Is.EqualTo(expected));
        if (expected == ComputePrecision.Float32)
            Assert.That(choice.Reason, Does.Contain($"ONEDNN_MAX_CPU_ISA={cap}"));
    }

    [Test]
    public void TheAvx2EmulationCapsBothLevels()
    {
        var profile = X86(CpuFeaturesTests.Avx512Bf16, oneDnnCap: "AVX2", atenCap: "avx2");
        Assert.Multiple(() =>
        {
            Assert.That(profile.EffectiveIsa, Is.EqualTo(OneDnnIsa.Avx2));
            Assert.That(profile.EffectiveAten, Is.EqualTo(AtenCapability.Avx2));
            Assert.That(profile.CpuHasNativeBFloat16, Is.False);
        });
    }

    [TestCase(new[] { "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq" }, ComputePrecision.Float32)] // Skylake-X: AVX-512, no BF16
    [TestCase(new[] { "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni" }, ComputePrecision.Float32)] // Cascade Lake
    [TestCase(new[] { "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16" }, ComputePrecision.BFloat16)] // Cooper Lake, Zen 4
    [TestCase(new[] { "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8" }, ComputePrecision.BFloat16)] // Sapphire Rapids
    [TestCase(new[] { "avx2", "fma", "avx_vnni" }, ComputePrecision.Float32)] // Alder Lake client
    [TestCase(new[] { "avx2", "fma", "avx512_bf16" }, ComputePrecision.Float32)] // a BF16 flag without the AVX-512 core is not a oneDNN BF16 level
    public void TheRuleFollowsTheFeatures(string[] flags, ComputePrecision expected) =>
        Assert.That(new DeviceProfile(Flags(flags)).ChoosePrecision(true, "FastCnn", DeviceType.CPU).Precision, Is.EqualTo(expected));

    [Test]
    public void ArmCpusGetFloat32()
    {
        var arm = new DeviceProfile(new CpuFeatures { Architecture = Architecture.Arm64, Flags = new HashSet<string> { "asimd", "bf16" } });
        Assert.That(arm.ChoosePrecision(true, "FastCnn", DeviceType.CPU).Precision, Is.EqualTo(ComputePrecision.Float32));
    }

    [Test]
    public void CudaNeedsComputeCapabilityEight()
    {
        var cuda = new[]
        {
            new CudaDeviceInfo(0, "NVIDIA H100", new Version(9, 0)),
            new CudaDeviceInfo(1, "Tesla T4", new Version(7, 5)),
            new CudaDeviceInfo(2, "unknown", null),
        };
        var profile = new DeviceProfile(Flags("avx2", "fma"), cudaDevices: cuda);
        Assert.Multiple(() =>
        {
            Assert.That(profile.ChoosePrecision(true, "FastCnn", DeviceType.CUDA, 0).Precision, Is.EqualTo(ComputePrecision.BFloat16));
            Assert.That(profile.ChoosePrecision(true, "FastCnn", DeviceType.CUDA, -1).Precision, Is.EqualTo(ComputePrecision.BFloat16));
            Assert.That(profile.ChoosePrecision(true, "FastCnn", DeviceType.CUDA, 1).Precision, Is.EqualTo(ComputePrecision.Float32));
            Assert.That(profile.ChoosePrecision(true, "FastCnn", DeviceType.CUDA, 2).Reason, Does.Contain("unknown"));
            Assert.That(profile.ChoosePrecision(false, "LeNet5", DeviceType.CUDA, 0).Precision, Is.EqualTo(ComputePrecision.Float32));
        });
    }

    [Test]
    public void NvidiaSmiOutputParses()
    {
        var devices = DeviceProfile.ParseNvidiaSmi("NVIDIA H100 80GB HBM3, 9.0\nTesla T4, 7.5\n");
        Assert.That(devices.Select(d => (d.Index, d.Name, d.ComputeCapability)),
            Is.EqualTo(new[] { (0, "NVIDIA H100 80GB HBM3", new Version(9, 0)), (1, "Tesla T4", new Version(7, 5)) }));
    }

    [Test]
    public void AModelRefusesAutoItself()
    {
        using var model = ModelZoo.Create("fast-cnn");
        Assert.Throws<ArgumentException>(() => model.Precision = ComputePrecision.Auto);
    }

    [Test]
    public void TheTrainerResolvesAutoForFastCnnByTheMachinesFeatures()
    {
        using var model = ModelZoo.Create("fast-cnn", new ModelOptions { Seed = 0 });
        using var data = FashionLike(16);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, Precision = ComputePrecision.Auto, Seed = 0 });
        trainer.Fit(data);

        var profile = DeviceProfile.Current;
        var expected = profile.CpuHasNativeBFloat16 ? ComputePrecision.BFloat16 : ComputePrecision.Float32;
        Assert.Multiple(() =>
        {
            Assert.That(trainer.ResolvedPrecision, Is.EqualTo(expected));
            Assert.That(trainer.PrecisionReason, Does.StartWith("Auto chose"));
            Assert.That(model.Precision, Is.EqualTo(ComputePrecision.Float32), "the model's own precision is restored after Fit");
        });
        if (profile.Cpu.Avx512Bf16 && profile.Cpu.Avx512Core && profile.OneDnnCap is null)
            Assert.That(trainer.ResolvedPrecision, Is.EqualTo(ComputePrecision.BFloat16), "an AVX512_BF16 CPU without a cap trains fast-cnn in bfloat16");
    }

    [Test]
    public void TheTrainerResolvesAutoToFloat32ForAModelWithoutBFloat16()
    {
        using var model = new TrainingTestKit.TinyNet();
        using var data = TrainingTestKit.Bars(16);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, Precision = ComputePrecision.Auto, Seed = 0 });
        trainer.Fit(data);

        Assert.That(trainer.ResolvedPrecision, Is.EqualTo(ComputePrecision.Float32));
        Assert.That(trainer.PrecisionReason, Does.Contain("TinyNet"));
    }

    [Test]
    public void AnExplicitPrecisionIsKeptAndSaysSo()
    {
        using var model = new TrainingTestKit.TinyNet();
        using var data = TrainingTestKit.Bars(16);
        using var trainer = new Trainer(model, new TrainerOptions { Epochs = 1, BatchSize = 16, Precision = ComputePrecision.Float32, Seed = 0 });
        trainer.Fit(data);
        Assert.That(trainer.ResolvedPrecision, Is.EqualTo(ComputePrecision.Float32));
        Assert.That(trainer.PrecisionReason, Does.Contain("TrainerOptions.Precision is Float32"));
    }

    /// <summary>28×28 grayscale images of random noise with 10 classes (enough to take training steps).</summary>
    private static FashionVision.Data.InMemoryDataset FashionLike(int count)
    {
        using var g = new Generator(3);
        var images = randint(0, 256, new long[] { count, 1, 28, 28 }, generator: g, dtype: ScalarType.Byte);
        var labels = randint(0, 10, new long[] { count }, generator: g, dtype: ScalarType.Int64);
        return new FashionVision.Data.InMemoryDataset(images, labels, Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray(), "noise");
    }
}
