using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Text;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// Uploads an attacker or a broken client would send. Each gets a 4xx with a one-line JSON problem that says what is wrong,
/// and the server answers the next good request.
/// </summary>
public sealed class HostileInputTests : WebAppFixture
{
    [Test]
    public async Task EmptyBodyIs400()
    {
        using var response = await Client.PostAsync("/predict", Raw([], "image/png"));
        await AssertProblem(response, HttpStatusCode.BadRequest, "body is empty");
        await AssertStillServing();
    }

    [Test]
    public async Task TwentyMegabyteBodyIs413WithOrWithoutContentLength()
    {
        var bytes = new byte[20 * 1024 * 1024];
        TestImages.Png(0).CopyTo(bytes, 0);
        using (var declared = await Client.PostAsync("/predict", Raw(bytes, "application/octet-stream")))
            await AssertProblem(declared, HttpStatusCode.RequestEntityTooLarge, "larger than the limit");

        // Chunked: no Content-Length, so the limit is enforced while reading.
        var chunked = new StreamContent(new MemoryStream(bytes));
        chunked.Headers.ContentType = new("application/octet-stream");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using (var streamed = await Client.SendAsync(request))
            await AssertProblem(streamed, HttpStatusCode.RequestEntityTooLarge, "larger than the limit");
        await AssertStillServing();
    }

    [TestCase("png")]
    [TestCase("jpeg")]
    public async Task TruncatedImageIs422(string format)
    {
        var whole = format == "png" ? TestImages.Png(2, size: 112) : TestImages.Jpeg(2, size: 112);
        var truncated = whole[..(whole.Length / 2)];
        using var response = await Client.PostAsync("/predict", Form(($"cut.{format}", truncated)));
        await AssertProblem(response, HttpStatusCode.UnprocessableEntity, "cut." + format);
        await AssertStillServing();
    }

    [Test]
    public async Task PngBombIs422BeforeAnyPixelIsDecoded()
    {
        // 6 KB on the wire, 60000×60000 pixels declared: 14 GB of RGBA if a decoder believed it.
        var bomb = PngWithDeclaredSize(60_000, 60_000);
        Assert.That(bomb, Has.Length.LessThan(64 * 1024));
        using var response = await Client.PostAsync("/predict", Form(("bomb.png", bomb)));
        await AssertProblem(response, HttpStatusCode.UnprocessableEntity, "too large (60000×60000 pixels");
        await AssertStillServing();
    }

    [Test]
    public async Task TextFileNamedPngIs415()
    {
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("not an image, whatever the name says\n", 20)));
        using var response = await Client.PostAsync("/predict", Form(("notes.png", text)));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "'notes.png' is not a PNG, JPEG, GIF, BMP or WebP image");
        await AssertStillServing();
    }

    [Test]
    public async Task WrongContentTypeIs415()
    {
        using var response = await Client.PostAsync("/predict", Raw(TestImages.Png(0), "application/json"));
        await AssertProblem(response, HttpStatusCode.UnsupportedMediaType, "Content-Type 'application/json' is not accepted");
        await AssertStillServing();
    }

    [Test]
    public async Task ThousandImagesInOneRequestAre413()
    {
        var image = TestImages.Png(3);
        using var form = Form(Enumerable.Range(0, 1000).Select(i => ($"image-{i}.png", image)).ToArray());
        using var response = await Client.PostAsync("/predict", form);
        await AssertProblem(response, HttpStatusCode.RequestEntityTooLarge, "more than 64 images");
        await AssertStillServing();
    }

    /// <summary>A valid PNG header and a small run of compressed zero rows, declaring <paramref name="width"/>×<paramref name="height"/> gray pixels.</summary>
    private static byte[] PngWithDeclaredSize(int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth; colour type 0 (gray), deflate, no filter, no interlace
        Chunk(png, "IHDR", header);
        using (var rows = new MemoryStream())
        {
            using (var zlib = new ZLibStream(rows, CompressionLevel.SmallestSize, leaveOpen: true))
                zlib.Write(new byte[(width + 1) * 100]);
            Chunk(png, "IDAT", rows.ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typed));
        png.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
