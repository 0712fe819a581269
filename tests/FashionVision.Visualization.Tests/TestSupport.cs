using FashionVision.Data;
using SkiaSharp;

namespace FashionVision.Visualization.Tests;

/// <summary>Decoding PNGs, sampling pixels, real Fashion-MNIST images, and a scratch folder per test.</summary>
internal static class TestSupport
{
    public static readonly IReadOnlyList<string> FashionClasses = FashionMnistSource.Classes;

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

    // Found where the data layer looks (FASHIONVISION_DATA, the user cache, /usr/share/datasets/fashion-mnist); never downloaded here.
    private static readonly Lazy<InMemoryDataset> FashionTest = new(() =>
        new FashionMnistSource(new DatasetOptions { AllowDownload = false }).Load(DatasetSplit.Test));

    /// <summary>The first <paramref name="count"/> images (N×1×28×28 uint8, a copy) and labels of the real Fashion-MNIST test set.</summary>
    public static (Tensor Images, long[] Labels) FashionMnistTest(int count)
    {
        var dataset = FashionTest.Value;
        var images = dataset.Images[..count].clone();
        var labels = dataset.Labels[..count].data<long>().ToArray();
        return (images, labels);
    }
}
