using FashionVision.IO;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>
/// Converts image tensors (C×H×W or N×C×H×W, float in [0, 1] or uint8 in [0, 255], one or three channels) to SkiaSharp
/// bitmaps and PNG files, and back.
/// </summary>
public static class TensorImages
{
    /// <summary>Encodes one image as a PNG: 8-bit grayscale for one channel, RGB for three.</summary>
    /// <param name="image">The image, C×H×W or H×W; float values are clamped to [0, 1] and rounded to the nearest of 256 levels.</param>
    /// <returns>The PNG file's bytes.</returns>
    /// <exception cref="ArgumentException">The tensor's rank, channel count or dtype is not an image's.</exception>
    public static byte[] EncodePng(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var batch = image.dim() switch
        {
            2 => image.unsqueeze(0).unsqueeze(0),
            3 => image.unsqueeze(0),
            _ => throw new ArgumentException($"Expected an image C×H×W or H×W, got shape [{string.Join(", ", image.shape)}].", nameof(image)),
        };
        using (batch)
        {
            ValidateBatch(batch, nameof(image));
            if (batch.shape[1] == 1)
            {
                using var gray = ToGrayBytes(batch);
                using var bitmap = new SKBitmap(new SKImageInfo((int)gray.shape[2], (int)gray.shape[1], SKColorType.Gray8, SKAlphaType.Opaque));
                gray.data<byte>().ToArray().AsSpan().CopyTo(bitmap.GetPixelSpan());
                return Encode(bitmap);
            }
            using var rgb = ToBitmaps(batch, nameof(image))[0];
            return Encode(rgb);
        }
    }

    /// <summary>Writes one image to a PNG file atomically (see <see cref="EncodePng"/>).</summary>
    /// <param name="image">The image, C×H×W or H×W.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    public static void SavePng(Tensor image, string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, EncodePng(image));
    }

    /// <summary>Encodes a bitmap as PNG.</summary>
    internal static byte[] Encode(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the bitmap as PNG.");
        return data.ToArray();
    }

    /// <summary>Encodes the current contents of a surface as PNG.</summary>
    internal static byte[] Encode(SKSurface surface)
    {
        using var snapshot = surface.Snapshot();
        using var data = snapshot.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the surface as PNG.");
        return data.ToArray();
    }

    /// <summary>
    /// Converts a batch N×C×H×W (C = 1 or 3; float in [0, 1] or uint8) to one opaque RGBA bitmap per image. The conversion is a
    /// few tensor operations over the whole batch and one copy out.
    /// </summary>
    internal static SKBitmap[] ToBitmaps(Tensor images, string paramName)
    {
        using var rgba = ToRgbaBytes(images, paramName);
        var n = (int)rgba.shape[0];
        var h = (int)rgba.shape[1];
        var w = (int)rgba.shape[2];
        var bytes = rgba.data<byte>().ToArray();
        var bitmaps = new SKBitmap[n];
        var imageBytes = h * w * 4;
        for (var i = 0; i < n; i++)
        {
            var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
            bytes.AsSpan(i * imageBytes, imageBytes).CopyTo(bitmap.GetPixelSpan());
            bitmaps[i] = bitmap;
        }
        return bitmaps;
    }

    /// <summary>N×1×H×W → N×H×W uint8 on the CPU, contiguous.</summary>
    private static Tensor ToGrayBytes(Tensor images)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(ToBytes(images).squeeze(1).contiguous());
    }

    /// <summary>Float in [0, 1] (clamped, NaN → 0) or uint8 → uint8 on the CPU, same shape.</summary>
    private static Tensor ToBytes(Tensor images) =>
        images.dtype == ScalarType.Byte
            ? images.detach().cpu()
            : images.detach().cpu().to_type(ScalarType.Float32).nan_to_num(0.0).clamp(0.0, 1.0).mul(255.0).round().to_type(ScalarType.Byte);

    /// <summary>N×C×H×W (C = 1 or 3) → N×H×W×4 uint8 RGBA on the CPU, contiguous.</summary>
    internal static Tensor ToRgbaBytes(Tensor images, string paramName)
    {
        ValidateBatch(images, paramName);
        using var scope = NewDisposeScope();
        var bytes = ToBytes(images);
        if (bytes.shape[1] == 1)
            bytes = bytes.expand(-1, 3, -1, -1);
        var alpha = full(bytes.shape[0], 1, bytes.shape[2], bytes.shape[3], (byte)255, dtype: ScalarType.Byte);
        var rgba = cat([bytes, alpha], 1).permute(0, 2, 3, 1).contiguous();
        return scope.MoveToOuter(rgba);
    }

    /// <summary>Checks that a tensor is a batch of images this package can draw.</summary>
    internal static void ValidateBatch(Tensor images, string paramName)
    {
        ArgumentNullException.ThrowIfNull(images, paramName);
        if (images.dim() != 4)
            throw new ArgumentException($"Expected images N×C×H×W, got shape [{string.Join(", ", images.shape)}].", paramName);
        if (images.shape[1] is not (1 or 3))
            throw new ArgumentException($"Expected 1 or 3 channels, got {images.shape[1]}.", paramName);
        if (images.shape[0] == 0 || images.shape[2] == 0 || images.shape[3] == 0)
            throw new ArgumentException($"The image batch is empty: shape [{string.Join(", ", images.shape)}].", paramName);
        if (images.dtype != ScalarType.Byte && !images.is_floating_point())
            throw new ArgumentException($"Expected float pixels in [0, 1] or uint8 pixels, got {images.dtype}.", paramName);
    }
}
