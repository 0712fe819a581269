using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Imaging;

/// <summary>
/// Turns image files (PNG, JPEG, BMP, GIF, WebP; decoded by SkiaSharp) into model input the way the MNIST family was made:
/// grayscale, light object on a dark background, the object fitted into a small square, pixel values in [0, 1], laid out
/// C×H×W. The result feeds <see cref="FashionVision.Inference.IPredictor.Predict"/> directly.
/// </summary>
/// <remarks>
/// Steps: decode (first frame of an animation; EXIF orientation applied) → composite transparency over white → grayscale
/// (ITU-R BT.601 luma, exact for gray images) or colour planes (<see cref="ColorMode.Rgb"/>) → invert (<see cref="InversionMode"/>) → fit (<see cref="FitMode"/>: crop to the
/// bounding box of pixels brighter than <see cref="ImageDecodeOptions.BackgroundThreshold"/>, resize with antialiasing, place
/// by bounding box or centre of mass) → repeat to the requested channel count. An image with no object pixels is resized
/// whole. Pixel arithmetic runs as tensor operations on the CPU. Safe to call from many threads at once.
/// </remarks>
public static class ImageDecoder
{
    /// <summary>Images with more pixels than this (100 megapixels) are refused rather than decoded; <see cref="ImageDecodeOptions.MaxPixels"/> can lower it.</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>Decodes an image file into C×H×W pixels in [0, 1].</summary>
    /// <param name="path">The image file.</param>
    /// <param name="options">Size, channels, inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <exception cref="ImageDecodeException">The file is missing, unreadable, empty, not an image, or corrupt.</exception>
    public static float[] Decode(string path, ImageDecodeOptions? options = null)
    {
        using var image = DecodeTensor(path, options);
        return image.data<float>().ToArray();
    }

    /// <summary>Decodes an image held in memory into C×H×W pixels in [0, 1].</summary>
    /// <param name="bytes">The encoded image (the contents of a PNG/JPEG/... file).</param>
    /// <param name="options">Size, channels, inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <param name="sourceName">A name for the buffer in error messages.</param>
    /// <exception cref="ImageDecodeException">The buffer is empty, not an image, or corrupt.</exception>
    public static float[] Decode(byte[] bytes, ImageDecodeOptions? options = null, string sourceName = "byte array")
    {
        using var image = DecodeTensor(bytes, options, sourceName);
        return image.data<float>().ToArray();
    }

    /// <summary>Decodes an image read from a stream (to its end) into C×H×W pixels in [0, 1].</summary>
    /// <param name="stream">A readable stream positioned at the start of the encoded image.</param>
    /// <param name="options">Size, channels, inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <param name="sourceName">A name for the stream in error messages.</param>
    /// <exception cref="ImageDecodeException">The stream is empty, unreadable, not an image, or corrupt.</exception>
    public static float[] Decode(Stream stream, ImageDecodeOptions? options = null, string sourceName = "stream")
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Decode(ReadAll(stream, sourceName), options, sourceName);
    }

    /// <summary>Decodes several image files into one N×C×H×W buffer, ready for a batched prediction.</summary>
    /// <param name="paths">The image files.</param>
    /// <param name="options">Size, channels, inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <exception cref="ImageDecodeException">Any of the files cannot be decoded (the message names it).</exception>
    public static float[] DecodeMany(IReadOnlyList<string> paths, ImageDecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        options ??= ImageDecodeOptions.FashionMnist;
        options.Validate(nameof(options));
        var size = options.Channels * options.Width * options.Height;
        var result = new float[paths.Count * size];
        for (var i = 0; i < paths.Count; i++)
            Decode(paths[i], options).CopyTo(result, i * size);
        return result;
    }

    /// <summary>Decodes an image file into a float tensor C×H×W in [0, 1] on the CPU.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="options">Size, channels, inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <exception cref="ImageDecodeException">The file is missing, unreadable, empty, not an image, or corrupt.</exception>
    public static Tensor DecodeTensor(string path, ImageDecodeOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        (options ?? ImageDecodeOptions.FashionMnist).Validate(nameof(options));
        return DecodeTensor(ReadFile(path), options, path);
    }

    /// <summary>
    /// Decodes an image file into uint8 C×H×W (0–255) on the CPU, for datasets. With <paramref name="keepSize"/> the image keeps
    /// its own size (the options' size and fitting are not applied; inversion and channels are). Options are validated by the caller.
    /// </summary>
    /// <exception cref="ImageDecodeException">The file is missing, unreadable, empty, not an image, or corrupt.</exception>
    internal static Tensor DecodeFileToBytes(string path, ImageDecodeOptions options, bool keepSize)
    {
        var bytes = ReadFile(path);
        using var scope = NewDisposeScope();
        Tensor prepared;
        if (keepSize)
        {
            var pixels = DecodePixels(bytes, path, options.Color, int.MaxValue, options.MaxPixels);
            prepared = Prepare(pixels, options with { Height = (int)pixels.shape[1], Width = (int)pixels.shape[2], Fit = FitMode.None });
        }
        else
        {
            prepared = Prepare(DecodePixels(bytes, path, options.Color, Math.Max(options.Width, options.Height), options.MaxPixels), options);
        }
        return scope.MoveToOuter(prepared.mul(255f).round_().to_type(ScalarType.Byte));
    }

    private static byte[] ReadFile(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (FileNotFoundException e)
        {
            throw new ImageDecodeException(path, "the file does not exist.", e);
        }
        catch (DirectoryNotFoundException e)
        {
            throw new ImageDecodeException(path, "the folder does not exist.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageDecodeException(path, $"the file cannot be read ({e.Message}).", e);
        }
    }

    /// <summary>Decodes an image held in memory into a float tensor C×H×W in [0, 1] on the CPU.</summary>
    /// <param name="bytes">The encoded image.</param>
    /// <param name="options">Size, channels, inversion and fitting; null for <see cref="ImageDecodeOptions.FashionMnist"/>.</param>
    /// <param name="sourceName">A name for the buffer in error messages.</param>
    /// <exception cref="ImageDecodeException">The buffer is empty, not an image, or corrupt.</exception>
    public static Tensor DecodeTensor(byte[] bytes, ImageDecodeOptions? options = null, string sourceName = "byte array")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        options ??= ImageDecodeOptions.FashionMnist;
        options.Validate(nameof(options));
        using var scope = NewDisposeScope();
        var pixels = DecodePixels(bytes, sourceName, options.Color, Math.Max(options.Width, options.Height), options.MaxPixels);
        return scope.MoveToOuter(Prepare(pixels, options));
    }

    /// <summary>Decodes to a grayscale H×W float tensor in [0, 1] (no inversion, no resizing); see <see cref="DecodePixels"/>.</summary>
    internal static Tensor DecodeGray(byte[] bytes, string sourceName, int outputSize = int.MaxValue, long maxPixels = MaxPixels) =>
        DecodePixels(bytes, sourceName, ColorMode.Grayscale, outputSize, maxPixels).squeeze(0);

    /// <summary>
    /// Decodes to a float tensor C×H×W in [0, 1] (C = 1 for grayscale, 3 for colour; no inversion, no resizing), upright and
    /// composited over white. Images whose shorter side exceeds 8× the output size are decoded at a reduced size where the
    /// format supports it (JPEG, WebP), which keeps phone photos cheap.
    /// </summary>
    internal static Tensor DecodePixels(byte[] bytes, string sourceName, ColorMode color, int outputSize = int.MaxValue, long maxPixels = MaxPixels)
    {
        if (bytes.Length == 0)
            throw new ImageDecodeException(sourceName, "it is empty (0 bytes).");
        using var codec = SKCodec.Create(new MemoryStream(bytes, writable: false), out var createResult);
        if (codec is null)
            throw new ImageDecodeException(sourceName, $"it is not a recognised image format (PNG, JPEG, BMP, GIF, WebP) or its header is corrupt (SkiaSharp: {createResult}).");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
            throw new ImageDecodeException(sourceName, $"it declares an empty size {info.Width}×{info.Height}.");
        if ((long)info.Width * info.Height > maxPixels)
            throw new ImageDecodeException(sourceName, $"it is too large ({info.Width}×{info.Height} pixels; at most {maxPixels} are decoded).");

        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var scale = 8.0 * outputSize / Math.Min(info.Width, info.Height);
        if (scale < 0.5)
        {
            var scaled = codec.GetScaledDimensions((float)scale);
            if (scaled.Width > 0 && scaled.Height > 0 && scaled.Width < info.Width)
                target = target.WithSize(scaled.Width, scaled.Height);
        }
        var pixels = new byte[target.BytesSize];
        var result = codec.GetPixels(target, pixels);
        if (result == SKCodecResult.InvalidScale)
        {
            target = target.WithSize(info.Width, info.Height);
            pixels = new byte[target.BytesSize];
            result = codec.GetPixels(target, pixels);
        }
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException(sourceName, result == SKCodecResult.IncompleteInput
                ? "the image data is truncated."
                : $"the image data is corrupt (SkiaSharp: {result}).");

        var rgba = tensor(pixels, [target.Height, target.Width, 4], ScalarType.Byte).to_type(ScalarType.Int32);
        var alpha = rgba[.., .., 3];
        // Composite over white with integer rounding, then BT.601 luma; both are exact for opaque gray pixels.
        var over = (rgba[.., .., ..3] * alpha.unsqueeze(2) + (255 - alpha).unsqueeze(2) * 255 + 127).floor_divide(255);
        var planes = color == ColorMode.Rgb
            ? over.permute(2, 0, 1)
            : (over[.., .., 0] * 299 + over[.., .., 1] * 587 + over[.., .., 2] * 114 + 500).floor_divide(1000).unsqueeze(0);
        return Orient(planes.to_type(ScalarType.Float32) / 255f, codec.EncodedOrigin);
    }

    /// <summary>Applies the EXIF orientation to C×H×W so that the image is upright.</summary>
    private static Tensor Orient(Tensor image, SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopRight => image.flip(2),
        SKEncodedOrigin.BottomRight => image.flip(1, 2),
        SKEncodedOrigin.BottomLeft => image.flip(1),
        SKEncodedOrigin.LeftTop => image.transpose(1, 2),
        SKEncodedOrigin.RightTop => image.rot90(-1, (1, 2)),
        SKEncodedOrigin.RightBottom => image.flip(1, 2).transpose(1, 2),
        SKEncodedOrigin.LeftBottom => image.rot90(1, (1, 2)),
        _ => image,
    };

    /// <summary>Inversion, fitting and channel repetition on C×H×W pixels (C = 1 or 3); returns C×H×W (contiguous) at the options' size.</summary>
    internal static Tensor Prepare(Tensor pixels, ImageDecodeOptions options)
    {
        var image = ShouldInvert(Luma(pixels), options.Inversion) ? 1f - pixels : pixels;
        var fitted = options.Fit == FitMode.None ? Resize(image, options.Height, options.Width) : Fit(image, options);
        if (fitted.shape[0] == 1 && options.Channels == 3)
            fitted = fitted.expand(3, -1, -1);
        return fitted.contiguous();
    }

    /// <summary>The gray level H×W of C×H×W pixels: the only plane, or the BT.601 luma of three.</summary>
    private static Tensor Luma(Tensor pixels) =>
        pixels.shape[0] == 1 ? pixels[0] : pixels[0] * 0.299f + pixels[1] * 0.587f + pixels[2] * 0.114f;

    /// <summary>Auto: invert when the mean of a border band (5% of the shorter side, at least one pixel) is above one half.</summary>
    internal static bool ShouldInvert(Tensor gray, InversionMode mode)
    {
        if (mode != InversionMode.Auto)
            return mode == InversionMode.Always;
        var h = gray.shape[0];
        var w = gray.shape[1];
        var band = Math.Max(1L, (long)Math.Round(Math.Min(h, w) * 0.05));
        if (2 * band >= h || 2 * band >= w)
            return gray.mean().item<float>() > 0.5f;
        var total = gray.sum().item<float>() - gray[(int)band..(int)(h - band), (int)band..(int)(w - band)].sum().item<float>();
        var count = h * w - (h - 2 * band) * (w - 2 * band);
        return total / count > 0.5f;
    }

    private static Tensor Fit(Tensor image, ImageDecodeOptions options)
    {
        var mask = Luma(image) > options.BackgroundThreshold;
        var rows = mask.any(1L).nonzero();
        if (rows.shape[0] == 0)
            return Resize(image, options.Height, options.Width);
        var cols = mask.any(0L).nonzero();
        var top = rows[0, 0].item<long>();
        var bottom = rows[-1, 0].item<long>();
        var left = cols[0, 0].item<long>();
        var right = cols[-1, 0].item<long>();
        var crop = image[.., (int)top..(int)(bottom + 1), (int)left..(int)(right + 1)];

        var boxSize = options.ObjectSize ?? Math.Min(options.Width, options.Height);
        var cropHeight = crop.shape[1];
        var cropWidth = crop.shape[2];
        var scale = Math.Min((double)boxSize / cropHeight, (double)boxSize / cropWidth);
        var height = Math.Clamp((int)Math.Round(cropHeight * scale), 1, options.Height);
        var width = Math.Clamp((int)Math.Round(cropWidth * scale), 1, options.Width);
        var patch = Resize(crop, height, width);

        long offsetY, offsetX;
        var patchLuma = Luma(patch);
        if (options.Fit == FitMode.CenterOfMass && patchLuma.sum().item<float>() > 0)
        {
            var mass = patchLuma.sum();
            var cy = (patchLuma.sum(1L) * arange(height, dtype: ScalarType.Float32)).sum() / mass;
            var cx = (patchLuma.sum(0L) * arange(width, dtype: ScalarType.Float32)).sum() / mass;
            offsetY = (long)Math.Round((options.Height - 1) / 2.0 - cy.item<float>());
            offsetX = (long)Math.Round((options.Width - 1) / 2.0 - cx.item<float>());
        }
        else
        {
            offsetY = (options.Height - height) / 2;
            offsetX = (options.Width - width) / 2;
        }
        return Place(patch, options.Height, options.Width, offsetY, offsetX);
    }

    /// <summary>Pastes a C×h×w patch onto a black C×H×W canvas at an offset, clipping whatever falls outside.</summary>
    private static Tensor Place(Tensor patch, int height, int width, long offsetY, long offsetX)
    {
        var canvas = zeros(patch.shape[0], height, width, dtype: ScalarType.Float32);
        var srcTop = Math.Max(0, -offsetY);
        var srcLeft = Math.Max(0, -offsetX);
        var dstTop = Math.Max(0, offsetY);
        var dstLeft = Math.Max(0, offsetX);
        var rows = Math.Min(patch.shape[1] - srcTop, height - dstTop);
        var cols = Math.Min(patch.shape[2] - srcLeft, width - dstLeft);
        if (rows > 0 && cols > 0)
            canvas.narrow(1, dstTop, rows).narrow(2, dstLeft, cols).copy_(patch.narrow(1, srcTop, rows).narrow(2, srcLeft, cols));
        return canvas;
    }

    /// <summary>Resizes C×H×W bilinearly (antialiased when shrinking); returns the input when the size already matches.</summary>
    private static Tensor Resize(Tensor image, int height, int width)
    {
        if (image.shape[1] == height && image.shape[2] == width)
            return image;
        var shrinking = image.shape[1] > height || image.shape[2] > width;
        var resized = nn.functional.interpolate(image.unsqueeze(0), size: [height, width],
            mode: InterpolationMode.Bilinear, align_corners: false, antialias: shrinking);
        return resized.squeeze(0).clamp(0f, 1f);
    }

    private static byte[] ReadAll(Stream stream, string sourceName)
    {
        if (!stream.CanRead)
            throw new ArgumentException("The stream is not readable.", nameof(stream));
        try
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(sourceName, $"the stream cannot be read ({e.Message}).", e);
        }
    }
}
