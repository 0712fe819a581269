using System.Text;
using FashionVision.Data;

namespace FashionVision.Tests.Data;

public class CsvDatasetSourceTests
{
    /// <summary>2×2 grayscale images: a row is a label and four pixel values.</summary>
    private static readonly CsvDatasetOptions Tiny = new() { Height = 2, Width = 2 };

    private TemporaryFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TemporaryFolder();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    private string Csv(string name, params string[] lines)
    {
        var path = _folder.File(name);
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    [Test]
    public void KaggleFormat_RealFashionMnistImages_RoundTripExactly()
    {
        var source = new FashionMnistSource(new DatasetOptions { AllowDownload = false });
        if (source.Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed (run eng/setup.sh)");
        using var full = source.Load(DatasetSplit.Test);
        using var original = full.Take(50);
        var path = _folder.File("fashion-mnist_test.csv");
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            writer.WriteLine("label," + string.Join(",", Enumerable.Range(1, 784).Select(i => $"pixel{i}")));
            var pixels = original.Images.reshape(50, 784).data<byte>().ToArray();
            var labels = original.Labels.data<long>().ToArray();
            for (int i = 0; i < 50; i++)
                writer.WriteLine(labels[i] + "," + string.Join(",", pixels.Skip(i * 784).Take(784)));
        }

        var loaded = new CsvDatasetSource(path, options: new CsvDatasetOptions { ClassNames = FashionMnistSource.Classes }).LoadDetailed(DatasetSplit.Train);
        using var dataset = loaded.Dataset;
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Images.shape, Is.EqualTo(new long[] { 50, 1, 28, 28 }));
            Assert.That(TensorAssert.SameValues(dataset.Images, original.Images), Is.True, "pixels identical");
            Assert.That(TensorAssert.SameValues(dataset.Labels, original.Labels), Is.True, "labels identical");
            Assert.That(dataset.ClassNames, Is.EqualTo(FashionMnistSource.Classes));
            Assert.That(loaded.Origins![0], Is.EqualTo(path + ":2"), "the header is line 1");
            Assert.That(loaded.Skipped, Is.Empty);
        });
    }

    [Test]
    public void Headerless_ColourImagesOfAnySize_AreLaidOutChannelsThenRowsThenColumns()
    {
        // 3×1×2 images: six values, red plane first.
        var path = Csv("rgb.csv", "1,10,11,20,21,30,31", "", "0,0,1,2,3,4,5");
        var options = new CsvDatasetOptions { Channels = 3, Height = 1, Width = 2, Header = CsvHeader.Absent };

        using var dataset = new CsvDatasetSource(path, options: options).Load(DatasetSplit.Train);

        Assert.Multiple(() =>
        {
            Assert.That(dataset.Images.shape, Is.EqualTo(new long[] { 2, 3, 1, 2 }));
            Assert.That(dataset.Images[0, 1, 0, 1].item<byte>(), Is.EqualTo(21));
            Assert.That(dataset.Images[1, 2, 0, 0].item<byte>(), Is.EqualTo(4));
            Assert.That(dataset.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 1, 0 }));
        });
    }

    [Test]
    public void DefaultClassNames_CoverTheLargestLabelOfBothFiles()
    {
        var train = Csv("train.csv", "label,a,b,c,d", "0,1,2,3,4", "2,1,2,3,4");
        var test = Csv("test.csv", "label,a,b,c,d", "4,1,2,3,4");
        var source = new CsvDatasetSource(train, test, Tiny);

        using var trainSet = source.Load(DatasetSplit.Train);
        using var testSet = source.Load(DatasetSplit.Test);

        Assert.Multiple(() =>
        {
            Assert.That(source.ClassNames, Is.EqualTo(new[] { "0", "1", "2", "3", "4" }));
            Assert.That(trainSet.ClassNames, Is.EqualTo(testSet.ClassNames));
            Assert.That(source.HasSplit(DatasetSplit.Test), Is.True);
        });
    }

    [Test]
    public void ImageSize_MustMatchTheColumnCount_TheHeaderSaysSoOnLineOne()
    {
        var path = Csv("kaggle.csv", "label,p1,p2,p3,p4", "3,1,2,3,4");
        var options = new CsvDatasetOptions { Height = 28, Width = 28 };

        var error = Assert.Throws<DatasetFormatException>(() => new CsvDatasetSource(path, options: options).Load(DatasetSplit.Train))!;

        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(path));
            Assert.That(error.LineNumber, Is.EqualTo(1));
            Assert.That(error.Message, Does.Contain("has 5 columns; expected 785").And.Contain("1×28×28"));
        });
    }

    [Test]
    public void RowWithTheWrongColumnCount_NamesFileAndLine()
    {
        var path = Csv("short.csv", "label,a,b,c,d", "0,1,2,3,4", "1,1,2,3");
        var error = Assert.Throws<DatasetFormatException>(() => CsvDatasetSource.ReadFile(path, Tiny))!;
        Assert.That(error.Message, Is.EqualTo($"{path}, line 3: has 4 columns; expected 5 (a label and 1×2×2 = 4 pixel values)"));
    }

    [TestCase("256", "the pixel value 256 is outside 0–255")]
    [TestCase("-1", "the pixel value -1 is outside 0–255")]
    [TestCase("7.5", "the pixel value '7.5' is not an integer in 0–255")]
    public void PixelOutsideTheByteRange_NamesFileLineAndColumn(string pixel, string problem)
    {
        var path = Csv("pixels.csv", "0,1,2,3,4", $"1,1,2,{pixel},4");
        var error = Assert.Throws<DatasetFormatException>(() => CsvDatasetSource.ReadFile(path, Tiny))!;
        Assert.That(error.Message, Is.EqualTo($"{path}, line 2: column 4: {problem}"));
    }

    [TestCase("shirt", "the label 'shirt' is not an integer")]
    [TestCase("2.0", "the label '2.0' is not an integer")]
    [TestCase("-3", "the label -3 is negative")]
    public void LabelThatIsNotAnInteger_NamesFileAndLine(string label, string problem)
    {
        var path = Csv("labels.csv", "label,a,b,c,d", "0,1,2,3,4", $"{label},1,2,3,4");
        var error = Assert.Throws<DatasetFormatException>(() => CsvDatasetSource.ReadFile(path, Tiny))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.LineNumber, Is.EqualTo(3));
            Assert.That(error.Message, Is.EqualTo($"{path}, line 3: {problem}"));
        });
    }

    [Test]
    public void LabelOutsideTheGivenClasses_NamesFileAndLine()
    {
        var path = Csv("classes.csv", "0,1,2,3,4", "2,1,2,3,4");
        var error = Assert.Throws<DatasetFormatException>(() => CsvDatasetSource.ReadFile(path, Tiny with { ClassNames = ["a", "b"] }))!;
        Assert.That(error.Message, Is.EqualTo($"{path}, line 2: the label 2 is outside the 2 classes (0–1)"));
    }

    [Test]
    public void EmptyFile_AndHeaderOnly_AreErrorsNamingTheFile()
    {
        var empty = Csv("empty.csv");
        File.WriteAllText(empty, "");
        var headerOnly = Csv("header.csv", "label,a,b,c,d");
        Assert.Multiple(() =>
        {
            Assert.That(() => CsvDatasetSource.ReadFile(empty, Tiny), Throws.TypeOf<DatasetFormatException>().With.Message.EqualTo($"{empty}: the file is empty"));
            Assert.That(() => CsvDatasetSource.ReadFile(headerOnly, Tiny), Throws.TypeOf<DatasetFormatException>().With.Message.EqualTo($"{headerOnly}: it holds no data rows"));
            Assert.That(() => CsvDatasetSource.ReadFile(_folder.File("missing.csv"), Tiny), Throws.TypeOf<DatasetFormatException>().With.Message.Contains("file not found"));
        });
    }

    [Test]
    public void SkipBadRows_LeavesThemOutWithAWarningAndACount()
    {
        var path = Csv("mixed.csv", "label,a,b,c,d", "0,1,2,3,4", "x,1,2,3,4", "1,1,2,3", "1,9,9,9,999", "2,5,6,7,8");
        var logger = new ListLogger();

        var loaded = CsvDatasetSource.ReadFile(path, Tiny with { SkipBadRows = true, Logger = logger });
        using var dataset = loaded.Dataset;

        Assert.Multiple(() =>
        {
            Assert.That(dataset.Count, Is.EqualTo(2));
            Assert.That(dataset.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 2 }));
            Assert.That(loaded.Skipped.Select(s => s.LineNumber), Is.EqualTo(new long?[] { 3, 4, 5 }));
            Assert.That(loaded.Origins, Is.EqualTo(new[] { path + ":2", path + ":6" }));
            Assert.That(logger.Warnings.Count(w => w.Contains(path + ", line ")), Is.EqualTo(3), "one warning per skipped row");
            Assert.That(logger.Warnings.Last(), Does.Contain("skipped 3 unusable input(s)"));
        });
    }

    [Test]
    public void PixelsOnlyFiles_AreRecognisedWhenLabelsAreLeftToDetection()
    {
        var path = Csv("unlabelled.csv", "pixel0,pixel1,pixel2,pixel3", "1,2,3,4", "5,6,7,8");
        using var dataset = CsvDatasetSource.ReadFile(path, Tiny with { HasLabels = null, ClassNames = ["a", "b"] }).Dataset;
        Assert.Multiple(() =>
        {
            Assert.That(dataset.Count, Is.EqualTo(2));
            Assert.That(dataset.Images[1, 0, 1, 1].item<byte>(), Is.EqualTo(8));
            Assert.That(dataset.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 0 }));
        });
    }
}
