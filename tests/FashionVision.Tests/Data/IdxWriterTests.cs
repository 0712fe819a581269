using FashionVision.Data;

namespace FashionVision.Tests.Data;

public class IdxWriterTests
{
    private TemporaryFolder _folder = null!;

    [SetUp]
    public void CreateFolder() => _folder = new TemporaryFolder();

    [TearDown]
    public void DeleteFolder() => _folder.Dispose();

    [TestCase(false)]
    [TestCase(true)]
    public void ImagesAndLabels_RoundTripThroughTheReader(bool gzip)
    {
        using var images = randint(0, 256, [7, 1, 5, 3], dtype: ScalarType.Byte);
        using var labels = tensor(new long[] { 0, 9, 3, 255, 1, 1, 4 });

        IdxWriter.WriteImages(_folder.File("images"), images, gzip);
        IdxWriter.WriteLabels(_folder.File("labels"), labels, gzip);

        using var readImages = IdxReader.ReadImages(_folder.File("images"));
        using var readLabels = IdxReader.ReadLabels(_folder.File("labels"));
        Assert.Multiple(() =>
        {
            Assert.That(readImages.shape, Is.EqualTo(images.shape));
            Assert.That(TensorAssert.SameValues(readImages, images), Is.True);
            Assert.That(readLabels.data<long>().ToArray(), Is.EqualTo(labels.data<long>().ToArray()));
            Assert.That(IdxReader.IsGzip(File.ReadAllBytes(_folder.File("images"))), Is.EqualTo(gzip));
            Assert.That(Directory.GetFiles(_folder.Path), Has.Length.EqualTo(2), "no temporary files are left");
        });
    }

    [Test]
    public void ColourImages_RoundTripAsAFourDimensionalFile()
    {
        using var images = randint(0, 256, [4, 3, 6, 2], dtype: ScalarType.Byte);
        IdxWriter.Write(_folder.File("rgb"), images);

        var header = IdxReader.ReadHeader(_folder.File("rgb"));
        using var read = IdxReader.Read(_folder.File("rgb"));
        Assert.Multiple(() =>
        {
            Assert.That(header.Magic, Is.EqualTo(0x0804));
            Assert.That(header.Dimensions, Is.EqualTo(new[] { 4, 3, 6, 2 }));
            Assert.That(TensorAssert.SameValues(read, images), Is.True);
        });
    }

    [Test]
    public void WhatIdxCannotHold_IsRefusedBeforeAnythingIsWritten()
    {
        using var floats = zeros(2, 1, 2, 2);
        using var bigLabel = tensor(new long[] { 1, 256 });
        using var rgb = zeros([2, 3, 2, 2], dtype: ScalarType.Byte);
        Assert.Multiple(() =>
        {
            Assert.That(() => IdxWriter.Write(_folder.File("a"), floats), Throws.ArgumentException.With.Message.Contains("uint8"));
            Assert.That(() => IdxWriter.WriteLabels(_folder.File("b"), bigLabel), Throws.ArgumentException.With.Message.Contains("[0, 255]"));
            Assert.That(() => IdxWriter.WriteImages(_folder.File("c"), rgb), Throws.ArgumentException.With.Message.Contains("N×1×H×W"));
            Assert.That(Directory.GetFiles(_folder.Path), Is.Empty);
        });
    }
}
