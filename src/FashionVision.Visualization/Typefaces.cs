using SkiaSharp;

namespace FashionVision.Visualization;

/// <summary>Picks one sans-serif font that the machine has, for ScottPlot charts and SkiaSharp captions alike.</summary>
internal static class Typefaces
{
    private static readonly string[] Candidates = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "FreeSans"];

    private static readonly Lazy<(string? Family, SKTypeface Typeface)> Resolved = new(Resolve);

    /// <summary>The family name of the chosen font, or null when only the system default exists.</summary>
    public static string? SansFamily => Resolved.Value.Family;

    /// <summary>The chosen typeface (the system default when none of the candidates is installed).</summary>
    public static SKTypeface Sans => Resolved.Value.Typeface;

    /// <summary>Applies the chosen font to every text element of a ScottPlot plot.</summary>
    public static void Apply(ScottPlot.Plot plot)
    {
        if (SansFamily is { } family)
            plot.Font.Set(family);
    }

    private static (string?, SKTypeface) Resolve()
    {
        foreach (var name in Candidates)
        {
            var typeface = SKFontManager.Default.MatchFamily(name);
            if (typeface is not null && string.Equals(typeface.FamilyName, name, StringComparison.OrdinalIgnoreCase))
                return (typeface.FamilyName, typeface);
            typeface?.Dispose();
        }
        return (null, SKTypeface.Default);
    }
}
