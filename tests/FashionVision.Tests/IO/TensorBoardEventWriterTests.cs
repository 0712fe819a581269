using FashionVision.IO;
using FashionVision.Tests.Shared;

namespace FashionVision.Tests.IO;

public class TensorBoardEventWriterTests : WithTempDirectory
{
    /// <summary>A clock fixed at a known instant, to check the wall time written into every event.</summary>
    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Test]
    public void CrcMatchesTheCastagnoliCheckValue()
    {
        // The standard check value of CRC-32C over the ASCII digits 1-9, and the empty input.
        Assert.That(Crc32C.Compute("123456789"u8), Is.EqualTo(0xE3069283u));
        Assert.That(Crc32C.Compute(ReadOnlySpan<byte>.Empty), Is.Zero);
    }

    [Test]
    public void ScalarsAndImagesReadBackWithValidChecksums()
    {
        var when = new DateTimeOffset(2026, 5, 4, 3, 2, 1, 500, TimeSpan.Zero);
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5];
        string path;
        using (var writer = new TensorBoardEventWriter(Dir, new FixedClock(when)))
        {
            path = writer.FilePath;
            writer.AddScalar("loss/train", 0.25, 3);
            writer.AddScalar("loss/train", 1.5, 5_000_000_000);
            writer.AddImage("grid", png, width: 30, height: 20, channels: 1, step: 7);
        }

        var events = TensorBoardEventFile.Read(path);
        var scalars = TensorBoardEventFile.Scalars(path);
        var images = TensorBoardEventFile.Images(path);
        Assert.Multiple(() =>
        {
            Assert.That(Path.GetFileName(path), Does.StartWith("events.out.tfevents." + when.ToUnixTimeSeconds()));
            Assert.That(events, Has.Count.EqualTo(4));
            Assert.That(events[0].FileVersion, Is.EqualTo("brain.Event:2"));
            Assert.That(events.Select(e => e.WallTime), Is.All.EqualTo(when.ToUnixTimeMilliseconds() / 1000.0));
            Assert.That(scalars.Select(s => (s.Tag, s.Step, s.Value)), Is.EqualTo(new[] { ("loss/train", 3L, 0.25f), ("loss/train", 5_000_000_000L, 1.5f) }));
            Assert.That(images, Has.Count.EqualTo(1));
            Assert.That((images[0].Tag, images[0].Step, images[0].Width, images[0].Height, images[0].Channels), Is.EqualTo(("grid", 7L, 30, 20, 1)));
            Assert.That(images[0].Encoded, Is.EqualTo(png));
        });
    }

    [Test]
    public void ACorruptedByteIsCaughtByTheChecksum()
    {
        string path;
        using (var writer = new TensorBoardEventWriter(Dir))
        {
            path = writer.FilePath;
            writer.AddScalar("x", 1, 1);
        }
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 0x01;   // inside the scalar's float
        File.WriteAllBytes(path, bytes);
        Assert.That(() => TensorBoardEventFile.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains("data checksum"));
    }

    [Test]
    public void FlushedRecordsAreReadableWhileTheFileIsOpen()
    {
        using var writer = new TensorBoardEventWriter(Dir);
        writer.AddScalar("a", 2, 1);
        writer.Flush();
        Assert.That(TensorBoardEventFile.Scalars(writer.FilePath).Single().Value, Is.EqualTo(2f));
    }

    [Test]
    public void BadArgumentsNameTheProblem()
    {
        using var writer = new TensorBoardEventWriter(Dir);
        Assert.Multiple(() =>
        {
            Assert.That(() => writer.AddImage("i", ReadOnlySpan<byte>.Empty, 1, 1, 1, 0), Throws.ArgumentException.With.Message.Contains("empty"));
            Assert.That(() => writer.AddImage("i", new byte[] { 1 }, 1, 1, 5, 0), Throws.TypeOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("channels"));
            Assert.That(() => writer.AddScalar("", 1, 0), Throws.ArgumentException);
        });
        writer.Dispose();
        Assert.That(() => writer.AddScalar("x", 1, 0), Throws.TypeOf<ObjectDisposedException>().With.Message.Contains(writer.FilePath));
    }
}
