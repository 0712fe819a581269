using System.Text;
using System.Text.Json;
using FashionVision.Data;
using FashionVision.Imaging;
using FashionVision.Imaging.Tests;

namespace FashionVision.Cli.Tests;

/// <summary>
/// The "done when": real Fashion-MNIST images written out as PNG files in class folders train through
/// <c>train --data</c> to the same accuracy as the same images through the IDX path, with the same seed. The same folder
/// then feeds <c>evaluate</c>, <c>predict</c> and <c>datasets inspect</c>; a Kaggle-style CSV copy feeds <c>--csv</c>.
/// </summary>
[TestFixture]
public sealed class OwnDataTests
{
    private const int TrainCount = 2000;
    private const int TestCount = 1000;
    private const int CsvTrainCount = 600;
    private const int CsvTestCount = 200;
    private static readonly string[] Training = ["--model", "lenet5", "--epochs", "1", "--batch-size", "64", "--lr", "0.003", "--seed", "5"];

    private string _root = "";
    private Tensor _trainImages = null!;
    private Tensor _trainLabels = null!;
    private Tensor _testImages = null!;
    private Tensor _testLabels = null!;
    private CliRunner.Result _fromFolder = null!;
    private CliRunner.Result _fromIdx = null!;

    private string ImageFolder => Path.Combine(_root, "fashion-pngs");
    private string FolderRun => Path.Combine(_root, "run-folder");
    private string IdxRun => Path.Combine(_root, "run-idx");

    [OneTimeSetUp]
    public void WriteTheImagesAndTrainBothWays()
    {
        var source = new FashionMnistSource(new DatasetOptions { AllowDownload = false });
        if (source.Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        _root = Path.Combine(Path.GetTempPath(), "fv-own-data-" + Guid.NewGuid().ToString("N"));

        (_trainImages, _trainLabels) = WriteSplit(source, DatasetSplit.Train, TrainCount, "train");
        (_testImages, _testLabels) = WriteSplit(source, DatasetSplit.Test, TestCount, "test");

        // The IDX path gets the very same images in the same order: the order a folder source reads them (class, then file).
        string idx = Path.Combine(_root, "idx");
        IdxWriter.WriteImages(Path.Combine(idx, "train-images-idx3-ubyte"), _trainImages);
        IdxWriter.WriteLabels(Path.Combine(idx, "train-labels-idx1-ubyte"), _trainLabels);
        IdxWriter.WriteImages(Path.Combine(idx, "t10k-images-idx3-ubyte"), _testImages);
        IdxWriter.WriteLabels(Path.Combine(idx, "t10k-labels-idx1-ubyte"), _testLabels);

        _fromFolder = CliRunner.Run(["train", "--data", ImageFolder, .. Training, "--output", FolderRun]);
        _fromIdx = CliRunner.Run(["train", "--dataset", "fashion-mnist", "--data-dir", idx, .. Training, "--output", IdxRun]);
    }

    private (Tensor Images, Tensor Labels) WriteSplit(FashionMnistSource source, DatasetSplit split, int count, string folder)
    {
        using var full = source.Load(split);
        using var first = full.Take(count);
        var order = ImageFolderFixture.Write(Path.Combine(ImageFolder, folder), first.Images, first.Labels.data<long>().ToArray(), ImageFolderFixture.FashionFolders);
        using var indices = tensor(order);
        return (first.Images.index_select(0, indices), first.Labels.index_select(0, indices));
    }

    [OneTimeTearDown]
    public void RemoveTheFiles()
    {
        _trainImages?.Dispose();
        _trainLabels?.Dispose();
        _testImages?.Dispose();
        _testLabels?.Dispose();
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private static double TestAccuracy(string run)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        return json.RootElement.GetProperty("test").GetProperty("accuracy").GetDouble();
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Test]
    public void AFolderOfPngs_TrainsToTheAccuracyOfTheIdxPath_OnTheSameImagesAndSeed()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_fromFolder.ExitCode, Is.Zero, _fromFolder.ToString());
            Assert.That(_fromIdx.ExitCode, Is.Zero, _fromIdx.ToString());
        });
        double folder = TestAccuracy(FolderRun), idx = TestAccuracy(IdxRun);
        TestContext.Out.WriteLine($"test accuracy: folder of PNGs {folder:P2}, IDX {idx:P2}");
        Assert.Multiple(() =>
        {
            Assert.That(_fromFolder.Output, Does.Contain("fashion-pngs: ").And.Contain($"and {TestCount:N0} test images"));
            Assert.That(Math.Abs(folder - idx), Is.LessThanOrEqualTo(0.005), "within 0.5 percentage points");
            Assert.That(folder, Is.EqualTo(idx), "a lossless decode makes the two runs identical");
            Assert.That(folder, Is.GreaterThan(0.5), "one epoch of LeNet-5 on 2,000 images is far above chance");
        });
    }

    [Test]
    public void TheDecodedFolder_IsExactlyTheOriginalImages_AndIsReadBackFromItsCache()
    {
        var source = new ImageFolderSource(ImageFolder);
        var train = source.LoadDetailed(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);
        using var _ = train.Dataset;
        Assert.Multiple(() =>
        {
            Assert.That(train.FromCache, Is.True, "the CLI run cached it");
            Assert.That(source.ClassNames, Is.EqualTo(ImageFolderFixture.FashionFolders));
            Assert.That(Same(train.Dataset.Images, _trainImages), Is.True);
            Assert.That(Same(train.Dataset.Labels, _trainLabels), Is.True);
            Assert.That(Same(test.Images, _testImages), Is.True);
            Assert.That(Same(test.Labels, _testLabels), Is.True);
        });
    }

    [Test]
    public void EvaluateOnTheFolder_ReproducesTheRunsTestAccuracy()
    {
        Assert.That(_fromFolder.ExitCode, Is.Zero, _fromFolder.ToString());
        var result = CliRunner.Run("evaluate", Path.Combine(FolderRun, "last.ckpt"), "--data", ImageFolder);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain($"on fashion-pngs: accuracy {TestAccuracy(FolderRun):P2} on {TestCount} images"));
            Assert.That(result.Output, Does.Contain("9-ankle-boot"));
        });
    }

    [Test]
    public void PredictOnAFolder_ClassifiesEveryImageInIt()
    {
        Assert.That(_fromFolder.ExitCode, Is.Zero, _fromFolder.ToString());
        string trousers = Path.Combine(ImageFolder, "test", "1-trouser");
        int count = Directory.GetFiles(trousers, "*.png").Length;
        var result = CliRunner.Run("predict", "--data", trousers, "--model", Path.Combine(FolderRun, "last.ckpt"));
        var rows = result.Output.Split('\n').Where(line => line.Contains(".png")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(rows, Has.Count.EqualTo(count));
            Assert.That(rows.Count(r => r.Split('│', StringSplitOptions.TrimEntries)[2] == "1-trouser"), Is.GreaterThan(count * 3 / 4), "trousers are the easiest class");
        });
    }

    [Test]
    public void DatasetsInspect_PrintsImagesPerClassAndSplit_AndWritesASampleGrid()
    {
        string grid = Path.Combine(_root, "inspect", "grid.png");
        var result = CliRunner.Run("datasets", "inspect", ImageFolder, "--output", grid, "--per-class", "4");
        long trousers = _trainLabels.eq(1).sum().item<long>();
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Contain($"fashion-pngs: 10 classes, 1×28×28 images; {TrainCount:N0} train"));
            Assert.That(result.Output.Split('\n').Single(l => l.Contains("1-trouser")), Does.Contain($" {trousers:N0} "));
            Assert.That(File.ReadAllBytes(grid).Take(4), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47 }), "a PNG");
        });
    }

    [Test]
    public void CsvFiles_TrainEvaluateAndPredict()
    {
        string train = WriteCsv("fashion-mnist_train.csv", _trainImages, _trainLabels, CsvTrainCount);
        string test = WriteCsv("fashion-mnist_test.csv", _testImages, _testLabels, CsvTestCount);
        string run = Path.Combine(_root, "run-csv");

        var trained = CliRunner.Run(["train", "--csv", train, "--test-csv", test, "--classes", "fashion-mnist", .. Training, "--output", run]);
        Assert.That(trained.ExitCode, Is.Zero, trained.ToString());
        var evaluated = CliRunner.Run("evaluate", Path.Combine(run, "last.ckpt"), "--csv", test);
        var predicted = CliRunner.Run("predict", "--csv", test, "--model", Path.Combine(run, "last.ckpt"));
        Assert.Multiple(() =>
        {
            Assert.That(trained.Output, Does.Contain("fashion-mnist_train: ").And.Contain($"and {CsvTestCount} test images"));
            Assert.That(evaluated.ExitCode, Is.Zero, evaluated.ToString());
            Assert.That(evaluated.Output, Does.Contain($"accuracy {TestAccuracy(run):P2} on {CsvTestCount} images"));
            Assert.That(evaluated.Output, Does.Contain("Ankle boot"), "the classes came from --classes");
            Assert.That(predicted.ExitCode, Is.Zero, predicted.ToString());
            Assert.That(predicted.Output, Does.Contain("line 2 ").And.Contain($"line {CsvTestCount + 1} "), "one row per CSV line, after the header");
        });
    }

    [Test]
    public void ACsvFileWithoutATestFileIsSplitByTestSplit()
    {
        string train = WriteCsv("fashion-mnist_train.csv", _trainImages, _trainLabels, CsvTrainCount);
        string run = Path.Combine(_root, "run-csv-split");
        var trained = CliRunner.Run(["train", "--csv", train, "--classes", "fashion-mnist", "--channels", "1", "--test-split", "0.25", .. Training, "--output", run]);
        Assert.That(trained.ExitCode, Is.Zero, trained.ToString());
        int test = (int)Math.Round(CsvTrainCount * 0.25);
        Assert.That(trained.Output, Does.Contain($"and {test:N0} test images").Or.Contain($"and {test - 1:N0} test images").Or.Contain($"and {test + 1:N0} test images"),
            "a stratified quarter held out as the test set");
    }

    /// <summary>Kaggle's format: a header, then label,pixel1,...,pixel784 per image.</summary>
    private string WriteCsv(string name, Tensor images, Tensor labels, int count)
    {
        string path = Path.Combine(_root, "csv", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var pixels = images[..count].reshape(count, 784).data<byte>().ToArray();
        var label = labels[..count].data<long>().ToArray();
        var text = new StringBuilder("label," + string.Join(",", Enumerable.Range(1, 784).Select(i => $"pixel{i}")) + "\n");
        for (int i = 0; i < count; i++)
            text.Append(label[i]).Append(',').AppendJoin(',', pixels.Skip(i * 784).Take(784)).Append('\n');
        File.WriteAllText(path, text.ToString());
        return path;
    }
}
