using System.Text;
using FashionVision.Visualization;
using SkiaSharp;

namespace FashionVision.Imaging.Tests;

public class ImageFormatSnifferTests
{
    [Test]
    public void RecognisesEachFormatByItsFirstBytes()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Gray);
        byte[] Encode(SKEncodedImageFormat format)
        {
            using var data = bitmap.Encode(format, 90);
            return data.ToArray();
        }

        Assert.Multiple(() =>
        {
            Assert.That(ImageFormatSniffer.Detect(TensorImages.EncodePng(zeros(1, 4, 4))), Is.EqualTo(ImageFormat.Png));
            Assert.That(ImageFormatSniffer.Detect(Encode(SKEncodedImageFormat.Jpeg)), Is.EqualTo(ImageFormat.Jpeg));
            Assert.That(ImageFormatSniffer.Detect(Encode(SKEncodedImageFormat.Webp)), Is.EqualTo(ImageFormat.WebP));
            Assert.That(ImageFormatSniffer.Detect(Encoding.ASCII.GetBytes("GIF89a\x08\0\x08\0\0\0\0")), Is.EqualTo(ImageFormat.Gif));
            Assert.That(ImageFormatSniffer.Detect([(byte)'B', (byte)'M', .. new byte[52]]), Is.EqualTo(ImageFormat.Bmp));
        });
    }

    [Test]
    public void TextShortHeadersAndLookAlikesAreUnknown()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ImageFormatSniffer.Detect(Encoding.UTF8.GetBytes("a text file named photo.png\n")), Is.EqualTo(ImageFormat.Unknown));
            Assert.That(ImageFormatSniffer.Detect([]), Is.EqualTo(ImageFormat.Unknown));
            Assert.That(ImageFormatSniffer.Detect([0x89, (byte)'P', (byte)'N']), Is.EqualTo(ImageFormat.Unknown), "a cut PNG signature");
            Assert.That(ImageFormatSniffer.Detect("BM"u8), Is.EqualTo(ImageFormat.Unknown), "two letters are not a BMP header");
            Assert.That(ImageFormatSniffer.Detect("RIFF\0\0\0\0WAVEfmt "u8), Is.EqualTo(ImageFormat.Unknown), "a RIFF file that is not WebP");
        });
    }

    [Test]
    public void MaxPixelsRefusesLargerImagesBeforeDecoding()
    {
        var png = TensorImages.EncodePng(rand(new long[] { 1, 100, 80 }, generator: new Generator(5)));
        Assert.That(ImageDecoder.Decode(png, ImageDecodeOptions.Raw with { MaxPixels = 8000 }), Has.Length.EqualTo(28 * 28));
        Assert.That(() => ImageDecoder.Decode(png, ImageDecodeOptions.Raw with { MaxPixels = 7999 }, "upload.png"),
            Throws.TypeOf<ImageDecodeException>().With.Message.Contains("upload.png").And.Message.Contains("too large (80×100 pixels; at most 7999"));
        Assert.That(() => ImageDecoder.Decode(png, ImageDecodeOptions.Raw with { MaxPixels = 0 }), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
