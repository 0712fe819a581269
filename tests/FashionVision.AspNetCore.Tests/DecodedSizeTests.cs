using FashionVision.Imaging;
using SkiaSharp;

namespace FashionVision.AspNetCore.Tests;

/// <summary>The pixels an upload will decode to, read from its header: what the decoding budget counts.</summary>
public sealed class DecodedSizeTests
{
    [Test]
    public void APngCountsAtItsFullSize()
    {
        var png = TestImages.ZeroImage(2016, 1512);
        Assert.That(DecodedSize.Of(new UploadedImage("a.png", png, ImageFormat.Png), ImageDecodeOptions.FashionMnist), Is.EqualTo(2016L * 1512));
    }

    [Test]
    public void ALargeJpegCountsAtTheReducedSizeItIsDecodedAt()
    {
        // Shorter side 1512 > 8 × 28: the decoder asks libjpeg for 1/8 of the size, 252×189.
        var jpeg = TestImages.ZeroImage(2016, 1512, SKEncodedImageFormat.Jpeg);
        Assert.That(DecodedSize.Of(new UploadedImage("a.jpg", jpeg, ImageFormat.Jpeg), ImageDecodeOptions.FashionMnist), Is.EqualTo(252L * 189));
    }

    [Test]
    public void WhatTheDecoderRefusesFromItsHeaderCountsNothing()
    {
        var limited = ImageDecodeOptions.FashionMnist with { MaxPixels = 1000 };
        var png = TestImages.ZeroImage(64);
        Assert.Multiple(() =>
        {
            Assert.That(DecodedSize.Of(new UploadedImage("a.png", png, ImageFormat.Png), limited), Is.Zero, "over the per-image limit");
            Assert.That(DecodedSize.Of(new UploadedImage("cut.png", png[..20], ImageFormat.Png), ImageDecodeOptions.FashionMnist), Is.Zero, "no readable header");
        });
    }
}
