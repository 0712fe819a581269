using FashionVision.IO;
using ScottPlot;
using static TorchSharp.torch;

namespace FashionVision.Visualization;

/// <summary>Options of <see cref="GradCamOverlay"/>.</summary>
/// <param name="Alpha">Weight of the heatmap colour in the blend (0 shows only the image, 1 only the heatmap).</param>
public sealed record GradCamOverlayOptions(double Alpha = 0.45)
{
    /// <summary>The colormap from cold (0) to hot (1); ScottPlot's Turbo by default.</summary>
    public IColormap Colormap { get; init; } = new ScottPlot.Colormaps.Turbo();

    /// <summary>How the grid of overlays is laid out.</summary>
    public ImageGridOptions Grid { get; init; } = new();

    internal void Validate(string paramName)
    {
        if (!(Alpha is >= 0 and <= 1))
            throw new ArgumentOutOfRangeException(paramName, Alpha, $"{nameof(Alpha)} must be in [0, 1].");
        ArgumentNullException.ThrowIfNull(Colormap, paramName);
        ArgumentNullException.ThrowIfNull(Grid, paramName);
    }
}

/// <summary>Colours Grad-CAM heatmaps and blends them over their images, as tensors or as a PNG grid.</summary>
public static class GradCamOverlay
{
    /// <summary>Blends coloured heatmaps over the images: (1 − α)·image + α·colormap(heatmap), as tensor ops over the batch.</summary>
    /// <param name="images">The images as they should be shown, N×C×H×W (C = 1 or 3), float in [0, 1] or uint8.</param>
    /// <param name="heatmaps">Heatmaps N×H×W in [0, 1] (from <see cref="GradCam"/>).</param>
    /// <param name="options">Alpha and colormap; null for the defaults.</param>
    /// <returns>RGB images N×3×H×W, float in [0, 1], on the CPU.</returns>
    public static Tensor Blend(Tensor images, Tensor heatmaps, GradCamOverlayOptions? options = null)
    {
        options ??= new GradCamOverlayOptions();
        options.Validate(nameof(options));
        TensorImages.ValidateBatch(images, nameof(images));
        ArgumentNullException.ThrowIfNull(heatmaps);
        if (heatmaps.dim() != 3 || heatmaps.shape[0] != images.shape[0] || heatmaps.shape[1] != images.shape[2] || heatmaps.shape[2] != images.shape[3])
            throw new ArgumentException(
                $"Expected heatmaps N×H×W = [{images.shape[0]}, {images.shape[2]}, {images.shape[3]}], got [{string.Join(", ", heatmaps.shape)}].", nameof(heatmaps));

        using var scope = NewDisposeScope();
        var rgb = images.detach().cpu();
        rgb = rgb.dtype == ScalarType.Byte ? rgb.to_type(ScalarType.Float32) / 255.0 : rgb.to_type(ScalarType.Float32).clamp(0.0, 1.0);
        if (rgb.shape[1] == 1)
            rgb = rgb.expand(-1, 3, -1, -1);
        var index = heatmaps.detach().cpu().to_type(ScalarType.Float32).nan_to_num(0.0).clamp(0.0, 1.0).mul(255.0).round().to_type(ScalarType.Int64);
        var colors = Lookup(options.Colormap)[index].permute(0, 3, 1, 2);
        var blended = rgb * (1.0 - options.Alpha) + colors * options.Alpha;
        return scope.MoveToOuter(blended.contiguous());
    }

    /// <summary>Renders the blended overlays as a PNG grid, each overlay next to nothing else (use captions to label them).</summary>
    /// <param name="images">Images N×C×H×W, float in [0, 1] or uint8.</param>
    /// <param name="heatmaps">Heatmaps N×H×W in [0, 1].</param>
    /// <param name="captions">One caption per image, or null.</param>
    /// <param name="options">Alpha, colormap and grid layout; null for the defaults.</param>
    public static byte[] RenderPng(Tensor images, Tensor heatmaps, IReadOnlyList<ImageCaption>? captions = null, GradCamOverlayOptions? options = null)
    {
        options ??= new GradCamOverlayOptions();
        using var blended = Blend(images, heatmaps, options);
        return ImageGrid.RenderPng(blended, captions, options.Grid);
    }

    /// <summary>Renders the overlays as a PNG grid and writes it atomically.</summary>
    /// <param name="images">Images N×C×H×W, float in [0, 1] or uint8.</param>
    /// <param name="heatmaps">Heatmaps N×H×W in [0, 1].</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="captions">One caption per image, or null.</param>
    /// <param name="options">Alpha, colormap and grid layout; null for the defaults.</param>
    public static void SavePng(Tensor images, Tensor heatmaps, string path, IReadOnlyList<ImageCaption>? captions = null, GradCamOverlayOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(images, heatmaps, captions, options));
    }

    /// <summary>A 256×3 float table of the colormap.</summary>
    private static Tensor Lookup(IColormap colormap)
    {
        var table = new float[256 * 3];
        for (var i = 0; i < 256; i++)
        {
            var color = colormap.GetColor(i / 255.0);
            table[3 * i] = color.R / 255f;
            table[3 * i + 1] = color.G / 255f;
            table[3 * i + 2] = color.B / 255f;
        }
        return tensor(table, [256, 3]);
    }
}
