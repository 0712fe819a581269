using System.Text.Json;

namespace FashionVision.Cli.Tests;

/// <summary><c>fashionvision system</c>: every section is there, the JSON parses, and a bad option is one line.</summary>
[TestFixture]
public sealed class SystemCommandTests
{
    [Test]
    public void TheTextReportHasEverySection()
    {
        var result = CliRunner.Run("system");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.Multiple(() =>
        {
            foreach (var section in new[] { "CPU", "Kernels", "Software", "Threads", "CUDA", "Probe", "Auto precision", "ONNX Runtime" })
                Assert.That(result.Output, Does.Contain(section + "\n").Or.Contain(section + " ("), $"section {section}\n{result.Output}");
            foreach (var line in new[] { "Model:", "Features:", "oneDNN ISA:", "ATen capability:", "C library:", ".NET:", "TorchSharp:",
                         "libtorch:", "libstdc++ patch:", "torch intra-op:", "OMP_NUM_THREADS:", "Conv fwd+bwd float32:", "Conv correctness:",
                         "Matmul bfloat16:", "fast-cnn on the CPU:", "INT8 target:" })
                Assert.That(result.Output, Does.Contain(line), $"line {line}\n{result.Output}");
        });
    }

    [Test]
    public void TheJsonReportParsesAndCarriesTheProbes()
    {
        var result = CliRunner.Run("system", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("cpuModel").GetString(), Is.Not.Empty);
            Assert.That(root.GetProperty("logicalProcessors").GetInt32(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("oneDnnIsaEffective").GetString(), Is.Not.Empty);
            Assert.That(root.GetProperty("intraOpThreads").GetInt32(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("probe").GetProperty("float32Conv").GetDouble(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("probe").GetProperty("bFloat16Matmul").GetDouble(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("autoPrecisionFastCnn").GetProperty("precision").GetString(), Is.AnyOf("Float32", "BFloat16"));
            Assert.That(root.GetProperty("onnxProbe").GetProperty("int8ImagesPerSecond").GetDouble(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("onnxProbe").GetProperty("int8Target").GetProperty("weightMax").GetInt32(), Is.AnyOf(63, 127));
        });
    }

    [Test]
    public void WithoutTheProbeItSaysSo()
    {
        var result = CliRunner.Run("system", "--no-probe");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output, Does.Contain("not run"));
        Assert.That(result.Output, Does.Not.Contain("Conv fwd+bwd"));
    }
}
