using FashionVision.Data;

namespace FashionVision.Tests.Data;

public class IdxReaderTests
{
    private TemporaryFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TemporaryFolder();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    [TestCase(false)]
    [TestCase(true)]
    public void ReadsImagesExactly(bool compressed)
    {
        var raw = IdxTestFiles.Images(5, 4, 3, seed: 11);
        var path = IdxTestFiles.Write(_folder.Path, "images", compressed ? IdxTestFiles.Gzip(raw) : raw);

        using var images = IdxReader.ReadImages(path);

        Assert.That(images.shape, Is.EqualTo(new long[] { 5, 1, 4, 3 }));
        Assert.That(images.dtype, Is.EqualTo(ScalarType.Byte));
        Assert.That(images.data<byte>().ToArray(), Is.EqualTo(raw.Skip(16).ToArray()));
    }

    [Test]
    public void CompressionIsDetectedFromTheBytesNotTheName()
    {
        var raw = IdxTestFiles.Labels(3, 1, 4, 1, 5);
        var gzipWithoutSuffix = IdxTestFiles.Write(_folder.Path, "labels-idx1-ubyte", IdxTestFiles.Gzip(raw));
        var rawWithSuffix = IdxTestFiles.Write(_folder.Path, "labels-idx1-ubyte.gz", raw);

        using var a = IdxReader.ReadLabels(gzipWithoutSuffix);
        using var b = IdxReader.ReadLabels(rawWithSuffix);

        Assert.That(a.data<long>().ToArray(), Is.EqualTo(new long[] { 3, 1, 4, 1, 5 }));
        Assert.That(b.data<long>().ToArray(), Is.EqualTo(new long[] { 3, 1, 4, 1, 5 }));
    }

    [Test]
    public void ReadsAnyNumberOfDimensions()
    {
        var data = Enumerable.Range(0, 2 * 3 * 2 * 2).Select(i => (byte)i).ToArray();
        var path = IdxTestFiles.Write(_folder.Path, "four-d", IdxTestFiles.Build(0x0804, new[] { 2, 3, 2, 2 }, data));

        using var tensor = IdxReader.Read(path);

        Assert.That(tensor.shape, Is.EqualTo(new long[] { 2, 3, 2, 2 }));
        Assert.That(tensor[1, 2, 1, 1].item<byte>(), Is.EqualTo(23));
        Assert.That(IdxReader.ReadHeader(path).Dimensions, Is.EqualTo(new[] { 2, 3, 2, 2 }));
    }

    [Test]
    public void MissingFile()
    {
        var path = _folder.File("nope-idx3-ubyte");
        var e = Assert.Throws<DatasetFormatException>(() => IdxReader.ReadImages(path))!;
        Assert.That(e.FilePath, Is.EqualTo(path));
        Assert.That(e.Message, Does.Contain(path).And.Contain("not found"));
    }

    [Test]
    public void EmptyFile() => AssertProblem(Array.Empty<byte>(), "empty");

    [Test]
    public void WrongMagicNumber() => AssertProblem(new byte[] { 0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 1, 9 }, "wrong magic number");

    [Test]
    public void UnsupportedElementType() => AssertProblem(IdxTestFiles.Build(0x0D01, new[] { 1 }, new byte[4]), "element type 0x0D");

    [Test]
    public void ImageReaderRejectsALabelFile() =>
        AssertProblem(IdxTestFiles.Labels(1, 2), "expected an image file", read: IdxReader.ReadImages);

    [Test]
    public void TruncatedHeader() => AssertProblem(IdxTestFiles.Images(2, 2, 2).Take(9).ToArray(), "truncated header");

    [Test]
    public void TruncatedHeaderInsideGzip() =>
        AssertProblem(IdxTestFiles.Gzip(IdxTestFiles.Images(2, 2, 2).Take(6).ToArray()), "truncated header");

    [Test]
    public void TruncatedBody() => AssertProblem(IdxTestFiles.Images(4, 5, 5).SkipLast(7).ToArray(), "truncated");

    [Test]
    public void TruncatedGzipFile()
    {
        var gz = IdxTestFiles.Gzip(IdxTestFiles.Images(50, 28, 28));
        AssertProblem(gz.Take(gz.Length / 2).ToArray(), "gzip");
    }

    [Test]
    public void TrailingBytes() => AssertProblem(IdxTestFiles.Images(2, 3, 3).Concat(new byte[] { 1, 2, 3 }).ToArray(), "unexpected bytes");

    [Test]
    public void CorruptGzipStream()
    {
        var gz = IdxTestFiles.Gzip(IdxTestFiles.Images(50, 28, 28));
        for (int i = gz.Length / 2; i < gz.Length - 8; i += 7)
            gz[i] ^= 0x5A;
        AssertProblem(gz, "gzip");
    }

    [Test]
    public void DimensionsWhoseProductOverflows() =>
        AssertProblem(IdxTestFiles.Build(0x0803, new[] { int.MaxValue, int.MaxValue, int.MaxValue }, new byte[16]), "2^63");

    [Test]
    public void AbsurdDimensionsAreRejectedBeforeAllocating() =>
        AssertProblem(IdxTestFiles.Build(0x0803, new[] { 1_000_000, 100_000, 100_000 }, new byte[16]), "more than the limit");

    [Test]
    public void NegativeDimensionIsAbsurd() =>
        AssertProblem(IdxTestFiles.Build(0x0803, new[] { -1, 28, 28 }, new byte[16]), "absurd size");

    [Test]
    public void ZeroDimensionsDeclared() => AssertProblem(new byte[] { 0, 0, 8, 0, 1, 2, 3, 4 }, "0 dimensions");

    [Test]
    public void RealFashionMnistTestSet()
    {
        using var images = IdxReader.ReadImages("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
        using var labels = IdxReader.ReadLabels("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");

        Assert.That(images.shape, Is.EqualTo(new long[] { 10_000, 1, 28, 28 }));
        using var counts = labels.bincount(null, 10);
        Assert.That(counts.data<long>().ToArray(), Is.All.EqualTo(1000));
    }

    private void AssertProblem(byte[] content, string expected, Func<string, IdxReadLimits?, Tensor>? read = null)
    {
        var path = IdxTestFiles.Write(_folder.Path, "case-idx-ubyte", content);
        read ??= (p, limits) => IdxReader.Read(p, limits);
        var e = Assert.Throws<DatasetFormatException>(() => read(path, null).Dispose())!;
        Assert.That(e.FilePath, Is.EqualTo(path));
        Assert.That(e.Message, Does.StartWith(path).And.Contain(expected).IgnoreCase);
    }
}
