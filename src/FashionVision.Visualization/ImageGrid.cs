using FashionVision.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>
/// Draws a batch of images as a grid, upscaled nearest-neighbour so that small images stay crisp, with an optional caption
/// under each (red for mistakes). Used for augmentation previews, misclassified examples and Grad-CAM overlays.
/// </summary>
public static class ImageGrid
{
    /// <summary>The largest width or height of a grid, in pixels.</summary>
    public const int MaxSide = 16384;

    /// <summary>Renders the grid as PNG bytes.</summary>
    /// <param name="images">Images N×C×H×W, C = 1 or 3, float in [0, 1] (clamped) or uint8, on any device.</param>
    /// <param name="captions">One caption per image, or null for none.</param>
    /// <param name="options">Layout and colours; null for the defaults.</param>
    /// <exception cref="ArgumentException">The tensor is not an image batch, or the caption count differs from N.</exception>
    public static byte[] RenderPng(Tensor images, IReadOnlyList<ImageCaption>? captions = null, ImageGridOptions? options = null)
    {
        options ??= new ImageGridOptions();
        options.Validate(nameof(options));
        TensorImages.ValidateBatch(images, nameof(images));
        if (captions is not null && captions.Count != images.shape[0])
            throw new ArgumentException($"Got {captions.Count} captions for {images.shape[0]} images.", nameof(captions));

        var bitmaps = TensorImages.ToBitmaps(images, nameof(images));
        try
        {
            var layout = GridLayout.For(bitmaps.Length, bitmaps[0].Width, bitmaps[0].Height, captions, options);
            if (layout.Width > MaxSide || layout.Height > MaxSide)
                throw new ArgumentException(
                    $"The grid would be {layout.Width}×{layout.Height} pixels (at most {MaxSide} a side); pass fewer images or a smaller scale.", nameof(images));
            using var surface = SKSurface.Create(new SKImageInfo(layout.Width, layout.Height, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException($"SkiaSharp could not create a {layout.Width}×{layout.Height} surface.");
            var canvas = surface.Canvas;
            canvas.Clear(options.Background);
            using var font = new SKFont(Typefaces.Sans, options.CaptionFontSize) { Edging = SKFontEdging.Antialias };
            using var paint = new SKPaint { IsAntialias = true };

            if (options.Title is { Length: > 0 } title)
            {
                using var titleFont = new SKFont(Typefaces.Sans, options.CaptionFontSize * 1.3f) { Edging = SKFontEdging.Antialias, Embolden = true };
                paint.Color = options.TextColor;
                DrawFitted(canvas, title, layout.Width / 2f, options.Padding - titleFont.Metrics.Ascent, layout.Width - 2 * options.Padding, titleFont, paint);
            }

            var sampling = new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None);
            for (var i = 0; i < bitmaps.Length; i++)
            {
                var cell = layout.ImageRect(i);
                using var image = SKImage.FromBitmap(bitmaps[i]);
                canvas.DrawImage(image, cell, sampling);
                if (captions is null)
                    continue;
                paint.Color = captions[i].IsError ? options.ErrorColor : options.TextColor;
                var lines = captions[i].Text.Split('\n');
                for (var line = 0; line < lines.Length; line++)
                {
                    var baseline = cell.Bottom + layout.CaptionGap + line * layout.LineHeight - font.Metrics.Ascent;
                    DrawFitted(canvas, lines[line], cell.MidX, baseline, layout.CellWidth, font, paint);
                }
            }
            return TensorImages.Encode(surface);
        }
        finally
        {
            foreach (var bitmap in bitmaps)
                bitmap.Dispose();
        }
    }

    /// <summary>Renders the grid and writes it to a PNG file atomically.</summary>
    /// <param name="images">Images N×C×H×W, C = 1 or 3, float in [0, 1] or uint8.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="captions">One caption per image, or null for none.</param>
    /// <param name="options">Layout and colours; null for the defaults.</param>
    public static void SavePng(Tensor images, string path, IReadOnlyList<ImageCaption>? captions = null, ImageGridOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(images, captions, options));
    }

    /// <summary>Draws one centred line, shrinking the font down to 70% to fit, then shortening it with an ellipsis.</summary>
    private static void DrawFitted(SKCanvas canvas, string text, float centerX, float baseline, float maxWidth, SKFont font, SKPaint paint)
    {
        var originalSize = font.Size;
        var width = font.MeasureText(text);
        if (width > maxWidth)
            font.Size = Math.Max(originalSize * 0.7f, originalSize * maxWidth / width);
        var shown = text;
        while (shown.Length > 1 && font.MeasureText(shown) > maxWidth)
            shown = shown[..^2] + "…";
        canvas.DrawText(shown, centerX, baseline, SKTextAlign.Center, font, paint);
        font.Size = originalSize;
    }
}

/// <summary>Where each cell of an image grid goes.</summary>
internal sealed record GridLayout(int Count, int Columns, int Rows, int CellWidth, int CellHeight, int ImageWidth, int ImageHeight,
    int Padding, int TitleHeight, int CaptionLines, int LineHeight, int CaptionGap)
{
    public int Width => Columns * CellWidth + (Columns + 1) * Padding;

    public int Height => TitleHeight + Rows * CellHeight + (Rows + 1) * Padding;

    public static GridLayout For(int count, int imageWidth, int imageHeight, IReadOnlyList<ImageCaption>? captions, ImageGridOptions options)
    {
        var columns = options.Columns ?? Math.Clamp((int)Math.Ceiling(Math.Sqrt(count)), 1, 10);
        columns = Math.Min(columns, count);
        var rows = (count + columns - 1) / columns;
        var scaledWidth = imageWidth * options.Scale;
        var scaledHeight = imageHeight * options.Scale;
        var captionLines = captions is null ? 0 : captions.Max(c => c.Text.Split('\n').Length);
        // Cells widen (up to three image widths) so captions stay readable; the image is centred in its cell.
        var cellWidth = scaledWidth;
        if (captions is not null)
        {
            using var font = new SKFont(Typefaces.Sans, options.CaptionFontSize);
            var widest = captions.SelectMany(c => c.Text.Split('\n')).Select(line => font.MeasureText(line)).DefaultIfEmpty(0).Max();
            cellWidth = Math.Clamp((int)Math.Ceiling(widest) + 4, scaledWidth, Math.Max(scaledWidth * 3, scaledWidth + 8));
        }
        var lineHeight = (int)Math.Ceiling(options.CaptionFontSize * 1.25f);
        var captionGap = captionLines > 0 ? Math.Max(2, options.Padding / 2) : 0;
        var titleHeight = options.Title is { Length: > 0 } ? (int)Math.Ceiling(options.CaptionFontSize * 1.3f * 1.4f) + options.Padding : 0;
        var cellHeight = scaledHeight + captionGap + captionLines * lineHeight;
        return new GridLayout(count, columns, rows, cellWidth, cellHeight, scaledWidth, scaledHeight, options.Padding, titleHeight, captionLines, lineHeight, captionGap);
    }

    /// <summary>The destination rectangle of image <paramref name="index"/>.</summary>
    public SKRect ImageRect(int index)
    {
        var row = index / Columns;
        var column = index % Columns;
        var left = Padding + column * (CellWidth + Padding) + (CellWidth - ImageWidth) / 2;
        var top = TitleHeight + Padding + row * (CellHeight + Padding);
        return SKRect.Create(left, top, ImageWidth, ImageHeight);
    }

    /// <summary>The area under image <paramref name="index"/> where its caption is drawn.</summary>
    public SKRectI CaptionRect(int index)
    {
        var image = ImageRect(index);
        var left = Padding + index % Columns * (CellWidth + Padding);
        return SKRectI.Create(left, (int)image.Bottom, CellWidth, CellHeight - ImageHeight);
    }
}
