using ScottPlot;
using SkiaSharp;

namespace FashionVision.Visualization;

/// <summary>Shared ScottPlot plumbing: a styled plot, and rendering one or several plots into one PNG.</summary>
internal static class ChartRendering
{
    /// <summary>The palette every chart of this package uses (ScottPlot's Category10).</summary>
    public static readonly ScottPlot.Color[] Palette = new ScottPlot.Palettes.Category10().Colors;

    /// <summary>A new plot with this package's font.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        Typefaces.Apply(plot);
        return plot;
    }

    /// <summary>Renders plots side by side (equal widths) under an optional figure title, and encodes the result as PNG.</summary>
    public static byte[] RenderPng(IReadOnlyList<Plot> plots, int width, int height, string? title)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul))
            ?? throw new InvalidOperationException($"SkiaSharp could not create a {width}×{height} surface.");
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        var top = 0;
        if (title is { Length: > 0 })
        {
            using var font = new SKFont(Typefaces.Sans, 20f) { Edging = SKFontEdging.Antialias, Embolden = true };
            using var paint = new SKPaint { IsAntialias = true, Color = new SKColor(0x20, 0x20, 0x20) };
            top = (int)Math.Ceiling(font.Spacing * 1.6f);
            canvas.DrawText(title, width / 2f, top * 0.7f, SKTextAlign.Center, font, paint);
        }
        // Each plot renders into its own surface: ScottPlot clears the whole canvas it is given.
        for (var i = 0; i < plots.Count; i++)
        {
            var left = (int)Math.Round(i * (double)width / plots.Count);
            var right = (int)Math.Round((i + 1) * (double)width / plots.Count);
            using var panel = SKSurface.Create(new SKImageInfo(right - left, height - top, SKColorType.Rgba8888, SKAlphaType.Premul))
                ?? throw new InvalidOperationException($"SkiaSharp could not create a {right - left}×{height - top} surface.");
            plots[i].Render(panel);
            using var image = panel.Snapshot();
            canvas.DrawImage(image, left, top);
        }
        canvas.Flush();
        return TensorImages.Encode(surface);
    }
}
