namespace FashionVision.Visualization;

/// <summary>Size and title of a rendered chart.</summary>
/// <param name="Width">Width of the PNG in pixels.</param>
/// <param name="Height">Height of the PNG in pixels.</param>
/// <param name="Title">A title drawn above the chart, or null for the chart's own default.</param>
public sealed record ChartOptions(int Width = 800, int Height = 600, string? Title = null)
{
    internal void Validate(string paramName)
    {
        if (Width is < 64 or > 16384)
            throw new ArgumentOutOfRangeException(paramName, Width, $"{nameof(Width)} must be between 64 and 16384 pixels.");
        if (Height is < 64 or > 16384)
            throw new ArgumentOutOfRangeException(paramName, Height, $"{nameof(Height)} must be between 64 and 16384 pixels.");
    }
}
