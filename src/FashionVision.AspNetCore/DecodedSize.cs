using FashionVision.Imaging;
using SkiaSharp;

namespace FashionVision.AspNetCore;

/// <summary>
/// How many pixels decoding an upload will produce, read from the image's header alone (PNG IHDR, JPEG SOF, ...: SkiaSharp's
/// <see cref="SKCodec"/> parses the header and decodes nothing). It follows <see cref="ImageDecoder"/>: an image whose
/// shorter side exceeds 8× the model's input size is decoded at a reduced size where the format allows it (JPEG, WebP), so a
/// phone photo counts at the size it is really decoded at, and a PNG at its full size.
/// </summary>
internal static class DecodedSize
{
    /// <summary>
    /// The pixels <paramref name="image"/> will decode to; zero when the decoder refuses it from its header alone (not an
    /// image SkiaSharp reads, an empty size, or more declared pixels than <see cref="ImageDecodeOptions.MaxPixels"/>), since
    /// such an image costs nothing to refuse.
    /// </summary>
    public static long Of(UploadedImage image, ImageDecodeOptions options)
    {
        using var codec = SKCodec.Create(new MemoryStream(image.Bytes, writable: false));
        if (codec is null)
            return 0;
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        if (width <= 0 || height <= 0 || (long)width * height > options.MaxPixels)
            return 0;
        var scale = 8.0 * Math.Max(options.Width, options.Height) / Math.Min(width, height);
        if (scale < 0.5)
        {
            var scaled = codec.GetScaledDimensions((float)scale);
            if (scaled.Width > 0 && scaled.Height > 0 && scaled.Width < width)
                return (long)scaled.Width * scaled.Height;
        }
        return (long)width * height;
    }
}
