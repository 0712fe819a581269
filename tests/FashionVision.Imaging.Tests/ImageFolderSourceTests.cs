using FashionVision.Data;
using FashionVision.Tests.Data;
using FashionVision.Visualization;
using FashionVision.Visualization.Tests;

namespace FashionVision.Imaging.Tests;

public class ImageFolderSourceTests
{
    private string _root = "";

    [SetUp]
    public void CreateRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), "fv-folder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
    }

    [TearDown]
    public void DeleteRoot()
    {
        if (Directory.Exists(_root))
            Directory.Delete(_root, recursive: true);
    }

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Writes a small random grayscale PNG (or colour with three channels).</summary>
    private string Png(string relativePath, int size = 28, int seed = 1, int channels = 1)
    {
        var path = Path.Combine(_root, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TensorImages.EncodePng(randint(0, 256, [channels, size, size], dtype: ScalarType.Byte, generator: new Generator((ulong)seed))));
        return path;
    }

    /// <summary>Two classes (cat, dog) of three 28×28 images each.</summary>
    private void TwoClasses()
    {
        for (int i = 0; i < 3; i++)
        {
            Png($"cat/{i}.png", seed: i);
            Png($"dog/{i}.png", seed: 10 + i);
        }
    }

    private static ImageFolderOptions NoCache => new() { UseCache = false };

    [Test]
    public void RealFashionMnistPngs_InTrainAndTestFolders_DecodeToTheOriginalPixels_AndTheSecondLoadComesFromTheCache()
    {
        var (images, labels) = TestSupport.FashionMnistTest(120);
        using var _images = images;
        var trainOrder = ImageFolderFixture.Write(Path.Combine(_root, "train"), images[..80], labels[..80], ImageFolderFixture.FashionFolders);
        var testOrder = ImageFolderFixture.Write(Path.Combine(_root, "test"), images[80..], labels[80..], ImageFolderFixture.FashionFolders);
        File.WriteAllText(Path.Combine(_root, "train", "README.txt"), "not an image: ignored");
        var source = new ImageFolderSource(_root);

        var first = source.LoadDetailed(DatasetSplit.Train);
        var second = source.LoadDetailed(DatasetSplit.Train);
        using var test = source.Load(DatasetSplit.Test);
        using var train = first.Dataset;
        using var again = second.Dataset;

        using var expectedTrain = images[..80].index_select(0, tensor(trainOrder));
        using var expectedTest = images[80..].index_select(0, tensor(testOrder));
        Assert.Multiple(() =>
        {
            Assert.That(source.Layout, Is.EqualTo(ImageFolderLayout.TrainTest));
            Assert.That(source.ClassNames, Is.EqualTo(ImageFolderFixture.FashionFolders));
            Assert.That(Same(train.Images, expectedTrain), Is.True, "lossless: the decoded train images are the originals");
            Assert.That(train.Labels.data<long>().ToArray(), Is.EqualTo(trainOrder.Select(i => labels[i])));
            Assert.That(Same(test.Images, expectedTest), Is.True, "and the test images");
            Assert.That(first.FromCache, Is.False);
            Assert.That(second.FromCache, Is.True);
            Assert.That(Same(again.Images, train.Images) && Same(again.Labels, train.Labels), Is.True, "the cache holds the same data");
            Assert.That(second.Origins, Is.EqualTo(first.Origins));
            Assert.That(first.Origins![0], Does.EndWith(Path.Combine("train", "0-tshirt-top", $"{trainOrder[0]:D5}.png")));
            Assert.That(Directory.GetFiles(Path.Combine(_root, ".fashionvision-cache")).Select(Path.GetFileName),
                Has.Some.Match(@"^train-[0-9a-f]+\.images\.idx$"));
        });
    }

    [Test]
    public void ChangingAFileAnOptionOrTheFileList_MissesTheCache_AndReplacesTheStaleEntry()
    {
        TwoClasses();
        using (var _ = new ImageFolderSource(_root).Load(DatasetSplit.Train)) { }

        var changedPath = Png("dog/1.png", seed: 99);
        File.SetLastWriteTimeUtc(changedPath, DateTime.UtcNow.AddMinutes(1));
        var afterEdit = new ImageFolderSource(_root).LoadDetailed(DatasetSplit.Train);
        using var fresh = ImageDecoder.DecodeFileToBytes(changedPath, ImageDecodeOptions.Raw, keepSize: false);
        var resized = new ImageFolderSource(_root, new ImageFolderOptions { Decode = ImageDecodeOptions.Raw with { Width = 14, Height = 14 } }).LoadDetailed(DatasetSplit.Train);
        Png("dog/3.png", seed: 42);
        var afterAdd = new ImageFolderSource(_root).LoadDetailed(DatasetSplit.Train);
        var cached = new ImageFolderSource(_root).LoadDetailed(DatasetSplit.Train);

        using (afterEdit.Dataset)
        using (resized.Dataset)
        using (afterAdd.Dataset)
        using (cached.Dataset)
        {
            Assert.Multiple(() =>
            {
                Assert.That(afterEdit.FromCache, Is.False, "an edited file");
                Assert.That(Same(afterEdit.Dataset.Images[4], fresh), Is.True, "the edited image is decoded again");
                Assert.That(resized.FromCache, Is.False, "other decode options");
                Assert.That(resized.Dataset.ImageShape, Is.EqualTo((1, 14, 14)));
                Assert.That(afterAdd.FromCache, Is.False, "an added file");
                Assert.That(afterAdd.Dataset.Count, Is.EqualTo(7));
                Assert.That(cached.FromCache, Is.True);
                Assert.That(Directory.GetFiles(Path.Combine(_root, ".fashionvision-cache"), "train-*.json"), Has.Length.EqualTo(1), "stale entries are removed");
            });
        }
    }

    [Test]
    public void WhenTheDataFolderCannotBeWritten_TheCacheGoesToThePerUserCache()
    {
        TwoClasses();
        File.WriteAllText(Path.Combine(_root, ".fashionvision-cache"), "a file where the cache folder would go");
        var userCache = Path.Combine(_root, "..", Path.GetFileName(_root) + "-xdg");
        var previous = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", userCache);
        try
        {
            using (var _ = new ImageFolderSource(_root).Load(DatasetSplit.Train)) { }
            var second = new ImageFolderSource(_root).LoadDetailed(DatasetSplit.Train);
            using var dataset = second.Dataset;
            Assert.Multiple(() =>
            {
                Assert.That(second.FromCache, Is.True);
                Assert.That(Directory.GetFiles(Path.Combine(userCache, "fashionvision", "image-folders"), "train-*.json", SearchOption.AllDirectories), Has.Length.EqualTo(1));
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", previous);
            if (Directory.Exists(userCache))
                Directory.Delete(userCache, recursive: true);
        }
    }

    [Test]
    public void ColourImages_KeepTheirChannels_AndOtherSizesAreResized()
    {
        var small = Png("red/a.png", size: 8, channels: 3, seed: 5);
        Png("blue/b.png", size: 20, channels: 3, seed: 6);
        var options = NoCache with { Decode = ImageDecodeOptions.Raw with { Width = 8, Height = 8, Channels = 3, Color = ColorMode.Rgb } };

        using var dataset = new ImageFolderSource(_root, options).Load(DatasetSplit.Train);

        using var original = randint(0, 256, [3, 8, 8], dtype: ScalarType.Byte, generator: new Generator(5));
        Assert.Multiple(() =>
        {
            Assert.That(dataset.ClassNames, Is.EqualTo(new[] { "blue", "red" }));
            Assert.That(dataset.ImageShape, Is.EqualTo((3, 8, 8)));
            Assert.That(Same(dataset.Images[1], original), Is.True, $"{small} is read exactly, in colour");
            Assert.That(dataset.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1 }));
        });
    }

    [Test]
    public void ParallelDecoding_ReportsProgress_AndStopsWhenCancelled()
    {
        TwoClasses();
        var reports = new List<ImageDecodeProgress>();
        var progress = new SynchronousProgress(p => { lock (reports) reports.Add(p); });
        using (var _ = new ImageFolderSource(_root, NoCache with { MaxDegreeOfParallelism = 2, Progress = progress }).Load(DatasetSplit.Train)) { }
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(reports.Max(r => r.Decoded), Is.EqualTo(6));
            Assert.That(reports.All(r => r.Total == 6), Is.True);
            Assert.That(() => new ImageFolderSource(_root, NoCache).Load(DatasetSplit.Train, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        });
    }

    [Test]
    public void ClassFoldersLayout_HasNoTestSplit_AndSaysHowToMakeOne()
    {
        TwoClasses();
        var source = new ImageFolderSource(_root, NoCache);
        Assert.Multiple(() =>
        {
            Assert.That(source.Layout, Is.EqualTo(ImageFolderLayout.ClassFolders));
            Assert.That(source.HasSplit(DatasetSplit.Test), Is.False);
            Assert.That(() => source.Load(DatasetSplit.Test), Throws.TypeOf<DatasetFormatException>().With.Message.Contains("train/ and test/"));
        });
    }

    [Test]
    public void TestClassUnknownToTraining_IsAnErrorNamingItsFolder()
    {
        Png("train/cat/0.png");
        Png("test/cat/0.png");
        Png("test/bird/0.png");
        var error = Assert.Throws<DatasetFormatException>(() => new ImageFolderSource(_root, NoCache).Load(DatasetSplit.Test))!;
        Assert.That(error.FilePath, Is.EqualTo(Path.Combine(_root, "test", "bird")));
    }

    // One test per kind of bad data: each names the file (or folder) and the problem.

    private DatasetFormatException LoadFails(ImageFolderOptions? options = null) =>
        Assert.Throws<DatasetFormatException>(() => new ImageFolderSource(_root, options ?? NoCache).Load(DatasetSplit.Train))!;

    [Test]
    public void ZeroByteFile_NamesTheFile()
    {
        TwoClasses();
        var bad = Path.Combine(_root, "dog", "empty.png");
        File.WriteAllBytes(bad, []);
        var error = LoadFails();
        Assert.That(error.Message, Is.EqualTo($"{bad}: the image cannot be decoded: it is empty (0 bytes)"));
    }

    [Test]
    public void NonImageFileWithAnImageExtension_NamesTheFile()
    {
        TwoClasses();
        var bad = Path.Combine(_root, "cat", "notes.jpg");
        File.WriteAllText(bad, "shopping list: milk, eggs");
        var error = LoadFails();
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(bad));
            Assert.That(error.Problem, Does.Contain("not a recognised image format"));
        });
    }

    [Test]
    public void TruncatedImage_NamesTheFile()
    {
        TwoClasses();
        var bad = Path.Combine(_root, "cat", "1.png");
        var bytes = File.ReadAllBytes(bad);
        File.WriteAllBytes(bad, bytes[..(bytes.Length * 2 / 3)]);
        var error = LoadFails();
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(bad));
            Assert.That(error.Problem, Does.Contain("truncated"));
        });
    }

    [Test]
    public void UnreadableImageData_NamesTheFile()
    {
        TwoClasses();
        var bad = Path.Combine(_root, "dog", "2.png");
        var bytes = File.ReadAllBytes(bad);
        for (int i = 60; i < bytes.Length - 20; i++)
            bytes[i] ^= 0x5A;
        File.WriteAllBytes(bad, bytes);
        var error = LoadFails();
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(bad));
            Assert.That(error.Problem, Does.Contain("corrupt").Or.Contain("truncated"));
        });
    }

    [Test]
    public void EmptyClassFolder_NamesTheFolder_EvenWhenBadFilesAreSkipped()
    {
        TwoClasses();
        var empty = Path.Combine(_root, "emu");
        Directory.CreateDirectory(empty);
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "no images here");
        var error = LoadFails(NoCache with { SkipBadFiles = true });
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(empty));
            Assert.That(error.Problem, Does.Contain("holds no image files"));
        });
    }

    [Test]
    public void MixedSizesWithResizingOff_NameTheFileThatDiffers()
    {
        TwoClasses();
        var odd = Png("dog/1.png", size: 32, seed: 3);
        var error = LoadFails(NoCache with { Resize = false });
        Assert.Multiple(() =>
        {
            Assert.That(error.FilePath, Is.EqualTo(odd));
            Assert.That(error.Problem, Does.Contain("32×32").And.Contain("28×28").And.Contain(Path.Combine(_root, "cat", "0.png")));
        });
    }

    [Test]
    public void SkipBadFiles_LeavesThemOutWithAWarningAndACount_AlsoWhenLoadedFromTheCache()
    {
        TwoClasses();
        File.WriteAllBytes(Path.Combine(_root, "cat", "1.png"), []);
        File.WriteAllText(Path.Combine(_root, "dog", "x.webp"), "not a webp");
        var logger = new ListLogger();
        var options = new ImageFolderOptions { SkipBadFiles = true, Logger = logger };

        var first = new ImageFolderSource(_root, options).LoadDetailed(DatasetSplit.Train);
        var second = new ImageFolderSource(_root, options).LoadDetailed(DatasetSplit.Train);
        using var _1 = first.Dataset;
        using var _2 = second.Dataset;

        Assert.Multiple(() =>
        {
            Assert.That(first.Dataset.Count, Is.EqualTo(5));
            Assert.That(first.Skipped.Select(s => Path.GetFileName(s.FilePath)), Is.EqualTo(new[] { "1.png", "x.webp" }));
            Assert.That(first.Origins!.Select(Path.GetFileName), Is.EqualTo(new[] { "0.png", "2.png", "0.png", "1.png", "2.png" }));
            Assert.That(first.Dataset.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 0, 1, 1, 1 }));
            Assert.That(second.FromCache, Is.True);
            Assert.That(second.Skipped, Is.EqualTo(first.Skipped));
            Assert.That(logger.Warnings.Count(w => w.Contains("skipped 2 unusable input(s)")), Is.EqualTo(2), "both loads warn");
            Assert.That(logger.Warnings.Count(w => w.Contains(Path.Combine(_root, "cat", "1.png"))), Is.EqualTo(2));
        });
    }

    [Test]
    public void FindsImagesInNestedFolders_IgnoringHiddenOnesAndOtherExtensions()
    {
        Png("a/x/1.PNG");
        Png("a/0.png");
        Png("a/.hidden.png");
        File.WriteAllText(Path.Combine(_root, "a", "notes.txt"), "ignored");
        Assert.That(ImageFiles.Find(_root).Select(p => Path.GetRelativePath(_root, p)), Is.EqualTo(new[] { Path.Combine("a", "0.png"), Path.Combine("a", "x", "1.PNG") }));
    }

    private sealed class SynchronousProgress(Action<ImageDecodeProgress> report) : IProgress<ImageDecodeProgress>
    {
        public void Report(ImageDecodeProgress value) => report(value);
    }
}
