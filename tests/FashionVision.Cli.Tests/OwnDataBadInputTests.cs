using FashionVision.Visualization;

namespace FashionVision.Cli.Tests;

/// <summary>
/// Every kind of bad data in a user's folder or CSV file becomes one line on stderr that names the file (and the line, for
/// CSV), with exit code 1 like the CLI's other failures; <c>--skip-bad-files</c> turns them into warnings.
/// </summary>
[TestFixture]
public sealed class OwnDataBadInputTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "fv-bad-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void DeleteRoot()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private string Png(string relativePath, int size = 28, int seed = 1)
    {
        var path = Path.Combine(_root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var image = randint(0, 256, [1, size, size], dtype: ScalarType.Byte, generator: new Generator((ulong)seed));
        File.WriteAllBytes(path, TensorImages.EncodePng(image));
        return path;
    }

    /// <summary>cat/ and dog/ with two good images each; returns the folder.</summary>
    private string GoodFolder()
    {
        for (int i = 0; i < 2; i++)
        {
            Png($"pets/cat/{i}.png", seed: i);
            Png($"pets/dog/{i}.png", seed: 10 + i);
        }
        return Path.Combine(_root, "pets");
    }

    private static readonly object[] FolderCases =
    [
        new object[] { "zero-byte file", (Func<string, string>)(folder => Write(Path.Combine(folder, "dog", "empty.png"), [])), "it is empty (0 bytes)" },
        new object[] { "not an image", (Func<string, string>)(folder => Write(Path.Combine(folder, "cat", "notes.jpg"), "milk, eggs"u8.ToArray())), "not a recognised image format" },
        new object[] { "truncated image", (Func<string, string>)(folder => Cut(Path.Combine(folder, "cat", "1.png"))), "truncated" },
        new object[] { "unreadable image data", (Func<string, string>)(folder => Garble(Path.Combine(folder, "dog", "1.png"))), "the image cannot be decoded" },
        new object[] { "empty class folder", (Func<string, string>)(folder => EmptyClass(Path.Combine(folder, "emu"))), "holds no image files" },
    ];

    private static string Write(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string Cut(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Write(path, bytes[..(bytes.Length * 2 / 3)]);
    }

    private static string Garble(string path)
    {
        var bytes = File.ReadAllBytes(path);
        for (int i = 60; i < bytes.Length - 20; i++)
            bytes[i] ^= 0x5A;
        return Write(path, bytes);
    }

    private static string EmptyClass(string folder)
    {
        Directory.CreateDirectory(folder);
        return folder;
    }

    [TestCaseSource(nameof(FolderCases))]
    public void BadImageFolder_IsOneLineNamingTheFile_ExitCode1(string what, Func<string, string> spoil, string problem)
    {
        string folder = GoodFolder();
        string bad = spoil(folder);
        var result = CliRunner.Run("datasets", "inspect", folder, "--output", Path.Combine(_root, "grid.png"));
        CliRunner.AssertOneLineError(result, CliApp.Failure, bad);
        Assert.That(result.Error, Does.Contain(problem), what);
    }

    [Test]
    public void MixedSizesWithResizingOff_IsOneLineNamingTheFile_ExitCode1()
    {
        string folder = GoodFolder();
        string odd = Png("pets/dog/1.png", size: 32);
        var result = CliRunner.Run("datasets", "inspect", folder, "--image-size", "keep", "--output", Path.Combine(_root, "grid.png"));
        CliRunner.AssertOneLineError(result, CliApp.Failure, odd);
        Assert.That(result.Error, Does.Contain("32×32").And.Contain("must share one size"));
    }

    [TestCase("1,2,3,4,5\n5,6,7", 2, "has 3 columns; expected 5")]
    [TestCase("1,2,3,4,5\n0,1,300,3,4", 2, "column 3: the pixel value 300 is outside 0–255")]
    [TestCase("label,a,b,c,d\n0,1,2,3,4\nshoe,1,2,3,4", 3, "the label 'shoe' is not an integer")]
    public void BadCsvRow_IsOneLineNamingTheFileAndLine_ExitCode1(string content, int line, string problem)
    {
        string csv = Path.Combine(_root, "data.csv");
        File.WriteAllText(csv, content + "\n");
        var result = CliRunner.Run("datasets", "inspect", csv, "--image-size", "2", "--output", Path.Combine(_root, "grid.png"));
        CliRunner.AssertOneLineError(result, CliApp.Failure, $"{csv}, line {line}: {problem}");
    }

    [Test]
    public void TrainOnABadFolder_StopsBeforeTrainingWithOneLineNamingTheFile()
    {
        string folder = GoodFolder();
        string bad = Write(Path.Combine(folder, "dog", "empty.png"), []);
        string run = Path.Combine(_root, "run");
        var result = CliRunner.Run("train", "--data", folder, "--model", "lenet5", "--epochs", "1", "--output", run);
        CliRunner.AssertOneLineError(result, CliApp.Failure, bad);
        Assert.That(Directory.Exists(run) ? Directory.GetFiles(run, "*.ckpt") : [], Is.Empty, "nothing was trained");
    }

    [Test]
    public void SkipBadFiles_WarnsNamingEachFile_AndCarriesOn()
    {
        string folder = GoodFolder();
        string empty = Write(Path.Combine(folder, "dog", "empty.png"), []);
        string text = Write(Path.Combine(folder, "cat", "notes.bmp"), "not a bitmap"u8.ToArray());
        var result = CliRunner.Run("datasets", "inspect", folder, "--skip-bad-files", "--output", Path.Combine(_root, "grid.png"));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Error, Does.Contain("warning: ").And.Contain(empty).And.Contain(text));
            Assert.That(result.Error, Does.Contain("skipped 2 unusable input(s)"));
            Assert.That(result.Output, Does.Contain("4 images (2 skipped)"));
        });
    }

    [Test]
    public void ConflictingOrMisplacedDataOptions_AreUsageErrors()
    {
        string folder = GoodFolder();
        string csv = Path.Combine(_root, "data.csv");
        File.WriteAllText(csv, "0,1,2,3,4\n");
        Assert.Multiple(() =>
        {
            CliRunner.AssertOneLineError(CliRunner.Run("train", "--data", folder, "--csv", csv), CliApp.UsageError, "either --data FOLDER or --csv FILE");
            CliRunner.AssertOneLineError(CliRunner.Run("train", "--data", Path.Combine(_root, "nowhere")), CliApp.UsageError, "--data: no such folder");
            CliRunner.AssertOneLineError(CliRunner.Run("train", "--data", folder, "--dataset", "mnist"), CliApp.UsageError, "--dataset names a built-in dataset");
            CliRunner.AssertOneLineError(CliRunner.Run("train", "--style", "mnist"), CliApp.UsageError, "--style applies to your own data");
            CliRunner.AssertOneLineError(CliRunner.Run("train", "--test-csv", csv), CliApp.UsageError, "--test-csv needs --csv");
            CliRunner.AssertOneLineError(CliRunner.Run("train", "--data", folder, "--image-size", "0"), CliApp.UsageError, "--image-size must be");
            CliRunner.AssertOneLineError(CliRunner.Run("datasets", "inspect", Path.Combine(_root, "nothing-here")), CliApp.UsageError, "no such folder, file or dataset");
        });
    }
}
