namespace FashionVision.Imaging;

/// <summary>The encoded image formats <see cref="ImageDecoder"/> reads.</summary>
public enum ImageFormat
{
    /// <summary>None of the formats below: text, an archive, a truncated header, ...</summary>
    Unknown,

    /// <summary>PNG (signature 89 50 4E 47 0D 0A 1A 0A).</summary>
    Png,

    /// <summary>JPEG (starts with the SOI marker FF D8 FF).</summary>
    Jpeg,

    /// <summary>GIF (GIF87a or GIF89a).</summary>
    Gif,

    /// <summary>BMP (starts with "BM").</summary>
    Bmp,

    /// <summary>WebP (a RIFF container of type "WEBP").</summary>
    WebP,
}

/// <summary>
/// Tells an image's format from its first bytes (its "magic number"), never from a file name or a declared content type,
/// which a client chooses freely. A server checks this before handing bytes to a decoder.
/// </summary>
public static class ImageFormatSniffer
{
    /// <summary>How many leading bytes <see cref="Detect"/> needs to recognise every format.</summary>
    public const int HeaderLength = 14;

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Detects the format from the first bytes of an encoded image.</summary>
    /// <param name="header">The first bytes (at least <see cref="HeaderLength"/> to recognise BMP and WebP; fewer give <see cref="ImageFormat.Unknown"/> where they do not suffice).</param>
    public static ImageFormat Detect(ReadOnlySpan<byte> header)
    {
        if (header.StartsWith(PngSignature))
            return ImageFormat.Png;
        if (header.Length >= 3 && header[0] == 0xFF && header[1] == 0xD8 && header[2] == 0xFF)
            return ImageFormat.Jpeg;
        if (header.StartsWith("GIF87a"u8) || header.StartsWith("GIF89a"u8))
            return ImageFormat.Gif;
        if (header.Length >= 14 && header.StartsWith("BM"u8))
            return ImageFormat.Bmp;
        if (header.Length >= 12 && header.StartsWith("RIFF"u8) && header[8..12].SequenceEqual("WEBP"u8))
            return ImageFormat.WebP;
        return ImageFormat.Unknown;
    }
}
