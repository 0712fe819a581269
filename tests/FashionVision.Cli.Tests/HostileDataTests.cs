using FashionVision.Cli.Infrastructure;
using FashionVision.Data;
using FashionVision.Visualization;

namespace FashionVision.Cli.Tests;

/// <summary>
/// Data a user (or an attacker) can hand the CLI that once got through or failed with a raw exception text: a folder with a
/// link loop, splits too small to hold anything, an IDX label file with another file's magic number.
/// </summary>
[TestFixture]
public sealed class HostileDataTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "fv-hostile-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void DeleteRoot()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    /// <summary>cat/ and dog/ with <paramref name="perClass"/> images each; returns the folder.</summary>
    private string Folder(int perClass)
    {
        string folder = Path.Combine(_root, "pets");
        for (int i = 0; i < 2 * perClass; i++)
        {
            string path = Path.Combine(folder, i % 2 == 0 ? "cat" : "dog", $"{i}.png");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var image = randint(0, 256, [1, 28, 28], dtype: ScalarType.Byte, generator: new Generator((ulong)i + 1));
            File.WriteAllBytes(path, TensorImages.EncodePng(image));
        }
        return folder;
    }

    [Test]
    public void DatasetsInspect_OnAFolderWithALinkLoop_CountsEveryRealImageOnce()
    {
        Assume.That(!OperatingSystem.IsWindows(), "symbolic links need a privilege on Windows");
        string folder = Folder(perClass: 2);
        string loop = Path.Combine(folder, "cat", "loop");
        Directory.CreateSymbolicLink(loop, "..");

        var result = CliRunner.Run("datasets", "inspect", folder, "--output", Path.Combine(_root, "grid.png"));

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain("pets: 2 classes, 1×28×28 images; 4 images"), result.ToString());
            Assert.That(result.Error, Does.Contain("warning: Skipping the directory link " + loop), result.ToString());
        });
    }

    [Test]
    public void Train_OnFourImagesWithNoValidation_SaysTheTestSplitIsEmpty_BeforeTraining()
    {
        string folder = Folder(perClass: 2);
        string run = Path.Combine(_root, "run");

        var result = CliRunner.Run("train", "--data", folder, "--model", "lenet5", "--epochs", "1", "--validation-split", "0", "--output", run);

        CliRunner.AssertOneLineError(result, CliApp.UsageError, "--test-split 0.2 of 4 images leaves the test split empty");
        Assert.Multiple(() =>
        {
            Assert.That(result.Error, Does.Contain("train/ and test/ layout"));
            Assert.That(result.Error, Does.Not.Contain("(Parameter"));
            Assert.That(Directory.Exists(run) ? Directory.GetFiles(run, "*.ckpt") : [], Is.Empty, "nothing was trained");
        });
    }

    [Test]
    public void Train_WithAValidationSplitTooSmallForTheData_SaysWhichSplitAndWhatToChange()
    {
        string folder = Folder(perClass: 4);
        string run = Path.Combine(_root, "run");

        // 8 images: --test-split 0.5 holds out 4, leaving 2 per class; 0.1 of those rounds to none.
        var result = CliRunner.Run("train", "--data", folder, "--model", "lenet5", "--epochs", "1", "--test-split", "0.5",
            "--validation-split", "0.1", "--output", run);

        CliRunner.AssertOneLineError(result, CliApp.UsageError, "--validation-split 0.1 of 4 images leaves the validation split empty");
        Assert.That(result.Error, Does.Contain("--validation-split 0 for none"));
    }

    [Test]
    public void ArgumentErrors_ReachTheUserWithoutTheParameterName()
    {
        var error = new StringWriter();
        ErrorReporter.TryReport(new ArgumentOutOfRangeException("count", 7, "Must lie in [0, 4]."), error, out int exitCode);
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(CliApp.UsageError));
            Assert.That(error.ToString(), Is.EqualTo("error: Must lie in [0, 4]. Actual value was 7." + Environment.NewLine));
        });
    }

    [Test]
    public void AnIdxLabelFileWithTheImageMagic_SaysWhichMagicWasExpected()
    {
        CliRunner.RequireFashionMnist();
        string real = new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Locate()!;
        string data = Path.Combine(_root, "fashion");
        Directory.CreateDirectory(data);
        foreach (var file in Directory.GetFiles(real, "*-ubyte*").Where(f => !Path.GetFileName(f).StartsWith("train-labels", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        // The header of an image file where the training labels should be: magic 0x00000803 and three huge dimensions.
        string labels = Path.Combine(data, "train-labels-idx1-ubyte");
        File.WriteAllBytes(labels, [0, 0, 8, 3, 0, 0, 0, 10, 2, 6, 10, 5, 6, 8, 2, 8]);

        var result = CliRunner.Run("datasets", "inspect", "fashion-mnist", "--data-dir", data, "--output", Path.Combine(_root, "grid.png"));

        CliRunner.AssertOneLineError(result, CliApp.Failure, labels);
        Assert.That(result.Error, Does.Contain("wrong magic number 0x00000803 (an image file): expected a label file (magic 0x00000801"));
    }
}
