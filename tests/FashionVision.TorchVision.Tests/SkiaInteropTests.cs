using FashionVision.Imaging;
using FashionVision.Models;
using SkiaSharp;

namespace FashionVision.TorchVision.Tests;

/// <summary>
/// The SkiaSharp question: the project pins SkiaSharp 3.119 (FashionVision.Imaging, .Visualization) and TorchVision 0.107 was
/// built against 2.88.6. This test assembly is an app that references both, so NuGet resolves one SkiaSharp, 3.119; the
/// tests show that what the project uses from TorchVision (its networks and ops) runs beside it, and what TorchVision's own
/// image IO does under 3.x.
/// </summary>
public class SkiaInteropTests
{
    private static byte[] GreyPng(int size)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Gray8, SKAlphaType.Opaque));
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 9), (byte)(x * 9), (byte)(x * 9)));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Test]
    public void AnAppWithSkiaSharp3DecodesWithOursAndRunsTorchVisionsNetworks()
    {
        using var scope = NewDisposeScope();
        var skia = typeof(SKBitmap).Assembly.GetName();
        Assert.That(skia.Version!.Major, Is.EqualTo(3), "NuGet resolved SkiaSharp 3.x for the app");

        var pixels = ImageDecoder.DecodeTensor(GreyPng(28));   // the project's decoder, on SkiaSharp 3
        Assert.That(pixels.shape, Is.EqualTo(new long[] { 1, 28, 28 }));

        var options = new ModelOptions { InputChannels = 1, NumClasses = 10, Seed = 1, Preprocessing = InputPreprocessing.ImageNet(32) };
        using var model = ModelZoo.Create(TorchVisionModels.MobileNetV3SmallName, options);   // TorchVision's builder and ops
        model.eval();
        using (no_grad())
            Assert.That(model.call(pixels.unsqueeze(0)).isfinite().all().item<bool>(), Is.True);

        var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "SkiaSharp").ToList();
        Assert.That(loaded.Select(a => a.GetName().Version!.Major), Is.EqualTo(new[] { 3 }), "one SkiaSharp in the process, 3.x");
    }

    [Test]
    public void TorchVisionsOwnSkiaImagerAlsoRunsOnSkiaSharp3()
    {
        using var scope = NewDisposeScope();
        var png = GreyPng(8);
        var imager = new torchvision.io.SkiaImager();
        var decoded = imager.DecodeImage(png, torchvision.io.ImageReadMode.GRAY);
        Assert.That(decoded.shape, Is.EqualTo(new long[] { 1, 8, 8 }));
        Assert.That(decoded[0, 0, 3].item<byte>(), Is.EqualTo((byte)27));
        var reencoded = imager.EncodeImage(decoded, torchvision.ImageFormat.Png);
        Assert.That(imager.DecodeImage(reencoded, torchvision.io.ImageReadMode.GRAY).eq(decoded).all().item<bool>(), Is.True);
    }
}
