using System.IO.Compression;
using FashionVision.Data;

namespace FashionVision.Cli.Tests;

[TestFixture]
public sealed class DatasetsCommandTests
{
    private static string FashionMnistFolder()
    {
        var folder = new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate();
        if (folder is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        return folder!;
    }

    [Test]
    public void ListShowsEveryDatasetWithItsClassesAndLocation()
    {
        string folder = FashionMnistFolder();
        var result = CliRunner.Run("datasets", "list");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            foreach (var name in DatasetCatalog.Names)
                Assert.That(result.Output, Does.Contain(name));
            Assert.That(result.Output, Does.Contain("Ankle boot"));
            Assert.That(result.Output, Does.Contain(folder));
        });
    }

    [Test]
    public void LocatePrintsTheFolderThatHoldsTheFiles()
    {
        string folder = FashionMnistFolder();
        var result = CliRunner.Run("datasets", "locate", "fashion-mnist");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        string printed = result.Output.Trim();
        Assert.Multiple(() =>
        {
            Assert.That(printed, Is.EqualTo(folder));
            Assert.That(Directory.GetFiles(printed, "train-images-idx3-ubyte*"), Is.Not.Empty);
        });
    }

    [Test]
    public void VerifyAcceptsTheRealFiles()
    {
        FashionMnistFolder();
        var result = CliRunner.Run("datasets", "verify", "fashion-mnist");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain("all 4 files intact"));
            Assert.That(result.Output, Does.Not.Contain("MISMATCH"));
        });
    }

    [Test]
    public void VerifyReportsATamperedFileAndFails()
    {
        string real = FashionMnistFolder();
        string folder = Directory.CreateTempSubdirectory("fv-cli-verify-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(real, "*-ubyte*"))
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            // Replace the test labels with a well-formed gzip of different content: one label changed.
            string labels = Directory.GetFiles(folder, "t10k-labels-idx1-ubyte*").Single();
            byte[] content = Decompress(labels);
            content[^1] = (byte)((content[^1] + 1) % 10);
            File.Delete(labels);
            using (var stream = new GZipStream(File.Create(Path.Combine(folder, "t10k-labels-idx1-ubyte.gz")), CompressionLevel.Fastest))
                stream.Write(content);

            var result = CliRunner.Run("datasets", "verify", "fashion-mnist", "--data-dir", folder);
            Assert.Multiple(() =>
            {
                Assert.That(result.ExitCode, Is.EqualTo(CliApp.Failure), result.ToString());
                Assert.That(result.Output, Does.Contain("MISMATCH"));
                Assert.That(result.Output, Does.Contain(folder));
                Assert.That(result.Error, Does.Contain("1 of 4 fashion-mnist files do not match"));
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void UnknownDatasetListsTheValidNames()
    {
        foreach (var verb in new[] { "locate", "verify", "download" })
        {
            var result = CliRunner.Run("datasets", verb, "cifar-10");
            CliRunner.AssertOneLineError(result, CliApp.UsageError, "Unknown dataset 'cifar-10'. Valid names: fashion-mnist, mnist.");
        }
    }

    [Test]
    public void AMissingSubcommandIsAOneLineUsageError()
    {
        var result = CliRunner.Run("datasets");
        CliRunner.AssertOneLineError(result, CliApp.UsageError, "error:");
    }

    private static byte[] Decompress(string path)
    {
        using var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        input.CopyTo(memory);
        return memory.ToArray();
    }
}
