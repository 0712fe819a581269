using System.Security.Cryptography;
using FashionVision.Data;

namespace FashionVision.Tests.Data;

public class DatasetSourceTests
{
    /// <summary>A four-file IDX dataset made up by the test, with its own checksums.</summary>
    private sealed class TinySource : IdxDatasetSource
    {
        public static readonly Dictionary<string, byte[]> RawFiles = new()
        {
            ["train-images-idx3-ubyte"] = IdxTestFiles.Images(6, 4, 4, seed: 1),
            ["train-labels-idx1-ubyte"] = IdxTestFiles.Labels(0, 1, 2, 0, 1, 2),
            ["t10k-images-idx3-ubyte"] = IdxTestFiles.Images(3, 4, 4, seed: 2),
            ["t10k-labels-idx1-ubyte"] = IdxTestFiles.Labels(2, 1, 0),
        };

        public TinySource(DatasetOptions options) : base(options)
        {
        }

        public override string Name => "tiny";

        public override IReadOnlyList<string> ClassNames => new[] { "zero", "one", "two" };

        public override IdxDatasetFiles Files { get; } = new(
            Describe("train-images-idx3-ubyte"), Describe("train-labels-idx1-ubyte"),
            Describe("t10k-images-idx3-ubyte"), Describe("t10k-labels-idx1-ubyte"));

        public override IReadOnlyList<Uri> DefaultMirrors => Array.Empty<Uri>();

        public static Dictionary<string, byte[]> ServedFiles() =>
            RawFiles.ToDictionary(kv => kv.Key + ".gz", kv => IdxTestFiles.Gzip(kv.Value));

        private static DatasetFile Describe(string name) => new(name, Convert.ToHexString(SHA256.HashData(RawFiles[name])).ToLowerInvariant());
    }

    private TemporaryFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TemporaryFolder();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    private DatasetOptions Options(params Uri[] mirrors) => new()
    {
        CacheDirectory = _folder.File("cache"),
        SearchSystemFolders = false,
        Mirrors = mirrors,
        RetryDelay = TimeSpan.FromMilliseconds(10),
        MaxAttempts = 2,
    };

    [Test]
    public void DownloadsVerifiesAndCachesThenLoadsWithoutTheNetwork()
    {
        using var server = new LocalHttpServer(TinySource.ServedFiles());
        var progress = new List<DownloadProgress>();
        var options = Options(server.Good) with { Progress = new SynchronousProgress<DownloadProgress>(progress.Add) };

        using (var train = new TinySource(options).Load(DatasetSplit.Train))
        {
            Assert.That(train.Count, Is.EqualTo(6));
            Assert.That(train.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2, 0, 1, 2 }));
        }
        Assert.That(Directory.GetFiles(_folder.File("cache/tiny")).Select(Path.GetFileName),
            Is.EquivalentTo(TinySource.RawFiles.Keys.Select(k => k + ".gz")));
        Assert.That(progress.Select(p => p.FileName).Distinct(), Is.EquivalentTo(TinySource.RawFiles.Keys));
        Assert.That(progress.Where(p => p.TotalBytes is not null).All(p => p.BytesReceived <= p.TotalBytes), Is.True);

        int requests = server.Requests;
        using (var test = new TinySource(options).Load(DatasetSplit.Test))
            Assert.That(test.Count, Is.EqualTo(3));
        Assert.That(server.Requests, Is.EqualTo(requests), "the cached files are used");
        Assert.That(new TinySource(options).Verify().All(v => v.Intact), Is.True);
    }

    [Test]
    public void CorruptedDownloadIsRetriedOnTheNextMirrorAndNeverCached()
    {
        using var server = new LocalHttpServer(TinySource.ServedFiles());
        using var train = new TinySource(Options(server.Corrupt, server.Good)).Load(DatasetSplit.Train);

        Assert.That(train.Count, Is.EqualTo(6));
        var cached = Directory.GetFiles(_folder.File("cache/tiny"));
        Assert.That(cached, Has.Length.EqualTo(4));
        Assert.That(cached.All(f => TinySource.RawFiles.ContainsKey(Path.GetFileNameWithoutExtension(f))), Is.True);
    }

    [TestCase("corrupt")]
    [TestCase("truncated")]
    [TestCase("missing")]
    public void FailedDownloadLeavesNothingPartialInTheCache(string kind)
    {
        using var server = new LocalHttpServer(TinySource.ServedFiles());
        var mirror = new Uri(server.BaseUri, kind + "/");

        var e = Assert.Throws<DatasetFormatException>(() => new TinySource(Options(mirror)).Load(DatasetSplit.Train))!;

        Assert.That(e.Message, Does.Contain("could not be downloaded intact").And.Contain("attempt 2"));
        Assert.That(Directory.GetFiles(_folder.File("cache/tiny")), Is.Empty, "no partial or corrupt file remains");
    }

    [Test]
    public void ExplicitFolderComesFirstAndDownloadCanBeTurnedOff()
    {
        var explicitFolder = _folder.File("explicit");
        foreach (var (name, bytes) in TinySource.RawFiles)
            IdxTestFiles.Write(explicitFolder, name, bytes);

        var source = new TinySource(Options() with { DataDirectory = explicitFolder, AllowDownload = false });
        Assert.That(source.Locate(), Is.EqualTo(explicitFolder));
        using (var test = source.Load(DatasetSplit.Test))
            Assert.That(test.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 2, 1, 0 }));

        var nowhere = new TinySource(Options() with { AllowDownload = false });
        Assert.That(() => nowhere.Load(DatasetSplit.Test),
            Throws.TypeOf<DatasetFormatException>().With.Message.Contains("downloading is off"));
    }

    [Test]
    public void SubfolderNamedAfterTheDatasetIsSearched()
    {
        var root = _folder.File("root");
        foreach (var (name, bytes) in TinySource.RawFiles)
            IdxTestFiles.Write(Path.Combine(root, "tiny"), name + ".gz", IdxTestFiles.Gzip(bytes));
        var source = new TinySource(Options() with { DataDirectory = root, AllowDownload = false });
        Assert.That(source.Locate(), Is.EqualTo(Path.Combine(root, "tiny")));
    }

    [Test]
    public void ImageAndLabelCountsThatDifferAreRejected()
    {
        var folder = _folder.File("mismatch");
        foreach (var (name, bytes) in TinySource.RawFiles)
            IdxTestFiles.Write(folder, name, bytes);
        IdxTestFiles.Write(folder, "t10k-labels-idx1-ubyte", IdxTestFiles.Labels(2, 1));

        var e = Assert.Throws<DatasetFormatException>(() => new TinySource(Options() with { DataDirectory = folder }).Load(DatasetSplit.Test))!;
        Assert.That(e.Message, Does.Contain("t10k-labels-idx1-ubyte").And.Contain("2 labels").And.Contain("3 images"));
    }

    [Test]
    public void LabelsOutsideTheClassRangeAreRejected()
    {
        var folder = _folder.File("badlabels");
        foreach (var (name, bytes) in TinySource.RawFiles)
            IdxTestFiles.Write(folder, name, bytes);
        IdxTestFiles.Write(folder, "t10k-labels-idx1-ubyte", IdxTestFiles.Labels(2, 7, 0));

        var e = Assert.Throws<DatasetFormatException>(() => new TinySource(Options() with { DataDirectory = folder }).Load(DatasetSplit.Test))!;
        Assert.That(e.Message, Does.Contain("label 7").And.Contain("3 classes"));
    }

    [Test]
    public void ChecksumVerificationOfLocatedFilesCatchesTampering()
    {
        var folder = _folder.File("tampered");
        foreach (var (name, bytes) in TinySource.RawFiles)
            IdxTestFiles.Write(folder, name, bytes);
        var tampered = (byte[])TinySource.RawFiles["t10k-images-idx3-ubyte"].Clone();
        tampered[^1] ^= 1;
        IdxTestFiles.Write(folder, "t10k-images-idx3-ubyte", tampered);

        var options = Options() with { DataDirectory = folder, VerifyChecksums = true };
        Assert.That(() => new TinySource(options).Load(DatasetSplit.Test),
            Throws.TypeOf<DatasetFormatException>().With.Message.Contains("checksum mismatch"));
        Assert.That(new TinySource(options).Verify().Count(v => !v.Intact), Is.EqualTo(1));
    }

    [Test]
    public void CatalogKnowsTheDatasetsAndListsThemForUnknownNames()
    {
        Assert.That(DatasetCatalog.Names, Is.SupersetOf(new[] { "fashion-mnist", "mnist" }));
        Assert.That(DatasetCatalog.Create("Fashion-MNIST"), Is.InstanceOf<FashionMnistSource>());
        Assert.That(() => DatasetCatalog.Create("cifar10"),
            Throws.ArgumentException.With.Message.Contains("fashion-mnist").And.Message.Contains("mnist"));
    }

    [Test]
    public void RealFilesMatchTheirPublishedChecksums()
    {
        Assert.That(new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Verify().All(v => v.Intact), Is.True);
        Assert.That(new MnistSource(new DatasetOptions { AllowDownload = false }).Verify().All(v => v.Intact), Is.True);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
