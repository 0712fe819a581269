using System.Globalization;
using FashionVision.IO;
using ScottPlot;

namespace FashionVision.Visualization;

/// <summary>Options of <see cref="ConfusionMatrixChart"/>.</summary>
/// <param name="Normalize">Divides each row by its total, so cells show recall per true class (0–1) instead of counts.</param>
/// <param name="Width">Width of the PNG in pixels.</param>
/// <param name="Height">Height of the PNG in pixels.</param>
/// <param name="Title">The title; null for "Confusion matrix" (with "(row-normalised)" when normalising).</param>
public sealed record ConfusionMatrixOptions(bool Normalize = false, int Width = 860, int Height = 760, string? Title = null)
{
    /// <summary>The colormap, from low to high values; white to dark blue by default.</summary>
    public IColormap Colormap { get; init; } = new ScottPlot.Colormaps.Reversed(new ScottPlot.Colormaps.Blues());

    /// <summary>Writes the value in every cell (counts, or fractions with two decimals when normalising).</summary>
    public bool ShowValues { get; init; } = true;
}

/// <summary>
/// Draws a confusion matrix as a heatmap: rows are true classes (top to bottom), columns predicted classes (left to right),
/// with the count (or row fraction) written in each cell and class names on both axes.
/// </summary>
public static class ConfusionMatrixChart
{
    /// <summary>Renders the heatmap as PNG bytes.</summary>
    /// <param name="matrix">Counts K×K: <c>matrix[t, p]</c> is the number of samples of true class t predicted as p.</param>
    /// <param name="classNames">K class names in class-index order.</param>
    /// <param name="options">Normalisation, size, title, colormap; null for the defaults.</param>
    /// <exception cref="ArgumentException">The matrix is not square, is empty, has negative counts, or its size differs from the class count.</exception>
    public static byte[] RenderPng(long[,] matrix, IReadOnlyList<string> classNames, ConfusionMatrixOptions? options = null)
    {
        options ??= new ConfusionMatrixOptions();
        new ChartOptions(options.Width, options.Height).Validate(nameof(options));
        using var plot = Build(matrix, classNames, options);
        return ChartRendering.RenderPng([plot], options.Width, options.Height, null);
    }

    /// <summary>Renders the heatmap and writes it to a PNG file atomically.</summary>
    /// <param name="matrix">Counts K×K, rows = true class, columns = predicted class.</param>
    /// <param name="classNames">K class names.</param>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="options">Normalisation, size, title, colormap; null for the defaults.</param>
    public static void SavePng(long[,] matrix, IReadOnlyList<string> classNames, string path, ConfusionMatrixOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        AtomicFile.WriteAllBytes(path, RenderPng(matrix, classNames, options));
    }

    /// <summary>The values the cells show: the counts, or each row divided by its total (a row with no samples stays 0).</summary>
    /// <param name="matrix">Counts K×K.</param>
    /// <param name="normalize">Whether to divide rows by their totals.</param>
    public static double[,] CellValues(long[,] matrix, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var k = matrix.GetLength(0);
        var values = new double[k, matrix.GetLength(1)];
        for (var t = 0; t < k; t++)
        {
            long total = 0;
            for (var p = 0; p < matrix.GetLength(1); p++)
                total += matrix[t, p];
            for (var p = 0; p < matrix.GetLength(1); p++)
                values[t, p] = normalize ? (total == 0 ? 0 : (double)matrix[t, p] / total) : matrix[t, p];
        }
        return values;
    }

    /// <summary>Builds the plot; the cell of true class t and predicted class p is centred on (p, K − 1 − t).</summary>
    internal static Plot Build(long[,] matrix, IReadOnlyList<string> classNames, ConfusionMatrixOptions options)
    {
        Validate(matrix, classNames);
        var k = classNames.Count;
        var values = CellValues(matrix, options.Normalize);
        var max = 0.0;
        foreach (var v in values)
            max = Math.Max(max, v);
        var scaleMax = options.Normalize ? 1.0 : Math.Max(1.0, max);

        var plot = ChartRendering.NewPlot();
        plot.Title(options.Title ?? (options.Normalize ? "Confusion matrix (row-normalised)" : "Confusion matrix"));
        // Cells are drawn as rectangles so that their placement is exact; the (hidden) heatmap only feeds the colour bar.
        for (var t = 0; t < k; t++)
        {
            for (var p = 0; p < k; p++)
            {
                var cell = plot.Add.Rectangle(p - 0.5, p + 0.5, k - 1 - t - 0.5, k - 1 - t + 0.5);
                cell.FillColor = options.Colormap.GetColor(values[t, p] / scaleMax);
                cell.LineWidth = 0;
            }
        }
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = options.Colormap;
        heatmap.ManualRange = new ScottPlot.Range(0, scaleMax);
        heatmap.IsVisible = false;
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = options.Normalize ? "fraction of true class" : "count";

        if (options.ShowValues)
        {
            var fontSize = (float)Math.Clamp(Math.Min(options.Width, options.Height) / (k * 4.2), 7, 18);
            for (var t = 0; t < k; t++)
            {
                for (var p = 0; p < k; p++)
                {
                    var value = values[t, p];
                    var text = options.Normalize ? value.ToString("0.00", CultureInfo.InvariantCulture) : matrix[t, p].ToString(CultureInfo.InvariantCulture);
                    var label = plot.Add.Text(text, p, k - 1 - t);
                    label.Alignment = Alignment.MiddleCenter;
                    label.LabelFontSize = fontSize;
                    label.LabelFontColor = Luminance(options.Colormap.GetColor(value / scaleMax)) < 0.5 ? Colors.White : Colors.Black;
                }
            }
        }

        var positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, classNames.ToArray());
        plot.Axes.Left.SetTicks(positions.Select(y => k - 1 - y).ToArray(), classNames.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.UpperLeft;
        var longest = classNames.Max(n => n.Length);
        plot.Axes.Bottom.MinimumSize = Math.Min(200, 30 + longest * 7);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.HideGrid();
        return plot;
    }

    private static double Luminance(Color color) => (0.299 * color.R + 0.587 * color.G + 0.114 * color.B) / 255.0;

    private static void Validate(long[,] matrix, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentNullException.ThrowIfNull(classNames);
        var k = matrix.GetLength(0);
        if (k == 0 || matrix.GetLength(1) != k)
            throw new ArgumentException($"The confusion matrix must be square and non-empty, got {matrix.GetLength(0)}×{matrix.GetLength(1)}.", nameof(matrix));
        if (classNames.Count != k)
            throw new ArgumentException($"The matrix has {k} classes but {classNames.Count} class names were given.", nameof(classNames));
        foreach (var count in matrix)
        {
            if (count < 0)
                throw new ArgumentException($"The confusion matrix has a negative count ({count}).", nameof(matrix));
        }
    }
}
