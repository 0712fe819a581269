using System.IO.Compression;
using SkiaSharp;

namespace FashionVision.Visualization.Tests;

/// <summary>Decoding PNGs, sampling pixels, real Fashion-MNIST images, and a scratch folder per test.</summary>
internal static class TestSupport
{
    public const string FashionMnistFolder = "/usr/share/datasets/fashion-mnist";

    public static readonly string[] FashionClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Decodes PNG bytes; fails the test when they are not a PNG.</summary>
    public static SKBitmap DecodePng(byte[] bytes)
    {
        using var codec = SKCodec.Create(new MemoryStream(bytes));
        Assert.That(codec, Is.Not.Null, "not a decodable image");
        Assert.That(codec!.EncodedFormat, Is.EqualTo(SKEncodedImageFormat.Png));
        var bitmap = SKBitmap.Decode(bytes);
        Assert.That(bitmap, Is.Not.Null);
        return bitmap;
    }

    public static SKBitmap DecodePngFile(string path)
    {
        Assert.That(File.Exists(path), Is.True, $"{path} was not written");
        return DecodePng(File.ReadAllBytes(path));
    }

    /// <summary>A fresh folder under the test's work directory, for files a test writes (kept for inspection).</summary>
    public static string OutputFolder()
    {
        var folder = Path.Combine(TestContext.CurrentContext.WorkDirectory, "viz-output", TestContext.CurrentContext.Test.Name.Replace('"', '_'));
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public static double ColorDistance(SKColor a, SKColor b) =>
        Math.Sqrt(Math.Pow(a.Red - b.Red, 2) + Math.Pow(a.Green - b.Green, 2) + Math.Pow(a.Blue - b.Blue, 2));

    public static double Luminance(SKColor c) => (0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue) / 255.0;

    /// <summary>Counts pixels within <paramref name="tolerance"/> of a colour inside a rectangle.</summary>
    public static int CountNear(SKBitmap bitmap, SKColor color, SKRectI area, double tolerance = 40)
    {
        var count = 0;
        for (var y = Math.Max(0, area.Top); y < Math.Min(bitmap.Height, area.Bottom); y++)
        {
            for (var x = Math.Max(0, area.Left); x < Math.Min(bitmap.Width, area.Right); x++)
            {
                if (ColorDistance(bitmap.GetPixel(x, y), color) <= tolerance)
                    count++;
            }
        }
        return count;
    }

    /// <summary>Reads the first <paramref name="count"/> images (N×1×28×28 uint8) and labels of the Fashion-MNIST test set.</summary>
    public static (Tensor Images, long[] Labels) FashionMnistTest(int count)
    {
        var imagePath = Path.Combine(FashionMnistFolder, "t10k-images-idx3-ubyte.gz");
        var labelPath = Path.Combine(FashionMnistFolder, "t10k-labels-idx1-ubyte.gz");
        if (!File.Exists(imagePath) || !File.Exists(labelPath))
            Assert.Ignore($"Fashion-MNIST is not installed in {FashionMnistFolder} (eng/ set-up script installs it).");
        var imageBytes = ReadGz(imagePath, 16 + count * 28 * 28);
        var labelBytes = ReadGz(labelPath, 8 + count);
        var images = tensor(imageBytes[16..], [count, 1, 28, 28], ScalarType.Byte);
        var labels = labelBytes[8..].Select(b => (long)b).ToArray();
        return (images, labels);
    }

    private static byte[] ReadGz(string path, int length)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        var buffer = new byte[length];
        gz.ReadExactly(buffer);
        return buffer;
    }
}
