using System.Collections.Concurrent;
using FashionVision.Data;
using FashionVision.Visualization;
using SkiaSharp;

namespace FashionVision.AspNetCore.Tests;

/// <summary>Real Fashion-MNIST test images encoded as files a user would upload.</summary>
internal static class TestImages
{
    private static readonly Lazy<Tensor> Images = new(() =>
    {
        using var test = new FashionMnistSource().Load(DatasetSplit.Test);
        return test.Images[..16].to_type(ScalarType.Float32).div(255).DetachFromDisposeScope();
    });

    /// <summary>Test image <paramref name="index"/> as a PNG, <paramref name="size"/> pixels square (upscaled bilinearly).</summary>
    /// <param name="index">0 to 15.</param>
    /// <param name="size">The side in pixels.</param>
    /// <param name="photo">Dark object on white, like a photo of a garment on a table (the server inverts it back).</param>
    public static byte[] Png(int index, int size = 28, bool photo = false)
    {
        using var scope = NewDisposeScope();
        var image = Images.Value[index].unsqueeze(0);
        if (size != 28)
            image = nn.functional.interpolate(image, size: [size, size], mode: InterpolationMode.Bilinear, align_corners: false).clamp(0, 1);
        if (photo)
            image = 1 - image;
        return TensorImages.EncodePng(image[0]);
    }

    /// <summary>Test image <paramref name="index"/> as a JPEG, <paramref name="size"/> pixels square.</summary>
    public static byte[] Jpeg(int index, int size = 112)
    {
        using var bitmap = SKBitmap.Decode(Png(index, size));
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    private static readonly ConcurrentDictionary<(int, int, SKEncodedImageFormat), byte[]> Blank = new();

    /// <summary>
    /// An all-black image of <paramref name="width"/>×<paramref name="height"/> (default: square): tiny on the wire, all its
    /// pixels to decode. The 4096×4096 PNG is about 16.5 KB.
    /// </summary>
    public static byte[] ZeroImage(int width, int? height = null, SKEncodedImageFormat format = SKEncodedImageFormat.Png) =>
        Blank.GetOrAdd((width, height ?? width, format), key =>
        {
            using var bitmap = new SKBitmap(new SKImageInfo(key.Item1, key.Item2, SKColorType.Gray8, SKAlphaType.Opaque));
            bitmap.Erase(SKColors.Black);
            using var data = bitmap.Encode(key.Item3, 90);
            return data.ToArray();
        });
}
