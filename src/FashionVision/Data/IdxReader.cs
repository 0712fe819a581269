using System.Buffers.Binary;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>The header of an IDX file: its element type and dimensions.</summary>
/// <param name="Magic">The magic number (2051 for MNIST images, 2049 for labels).</param>
/// <param name="Dimensions">The dimension sizes, outermost first.</param>
/// <param name="HeaderLength">Bytes before the data.</param>
public sealed record IdxHeader(int Magic, IReadOnlyList<int> Dimensions, int HeaderLength)
{
    /// <summary>The number of elements (the product of the dimensions).</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (product, d) => product * d);
}

/// <summary>Limits that protect the reader from absurd headers.</summary>
/// <param name="MaxElements">The largest element count accepted (default 2^31 − 1: one uint8 tensor in one managed array).</param>
/// <param name="MaxDimensions">The largest number of dimensions accepted.</param>
public sealed record IdxReadLimits(long MaxElements = int.MaxValue, int MaxDimensions = 8)
{
    /// <summary>The defaults.</summary>
    public static IdxReadLimits Default { get; } = new();
}

/// <summary>
/// Reads IDX files (the format of MNIST and Fashion-MNIST), raw or gzip-compressed (detected from the bytes, not the
/// name), straight into one uint8 tensor per file.
/// </summary>
/// <remarks>
/// Every problem (missing or empty file, wrong magic number, unsupported element type, truncated header or body, corrupt
/// gzip stream, trailing bytes, dimensions whose product overflows or exceeds <see cref="IdxReadLimits"/>) raises a
/// <see cref="DatasetFormatException"/> naming the file, before any large allocation is made.
/// </remarks>
public static class IdxReader
{
    /// <summary>The magic number of MNIST-style image files (uint8, 3 dimensions).</summary>
    public const int ImagesMagic = 0x0803;

    /// <summary>The magic number of MNIST-style label files (uint8, 1 dimension).</summary>
    public const int LabelsMagic = 0x0801;

    private const byte UnsignedByteType = 0x08;

    /// <summary>Reads any unsigned-byte IDX file into a uint8 tensor with the file's dimensions.</summary>
    /// <exception cref="DatasetFormatException">The file is missing or malformed.</exception>
    public static Tensor Read(string path, IdxReadLimits? limits = null)
    {
        return ReadTensor(path, limits ?? IdxReadLimits.Default, expectedMagic: null,
            header => header.Dimensions.Select(d => (long)d).ToArray());
    }

    /// <summary>Reads an image file (magic 2051, N×H×W) into a uint8 tensor N×1×H×W.</summary>
    /// <exception cref="DatasetFormatException">The file is missing, malformed or not an image file.</exception>
    public static Tensor ReadImages(string path, IdxReadLimits? limits = null)
    {
        return ReadTensor(path, limits ?? IdxReadLimits.Default, ImagesMagic, header =>
        {
            var d = header.Dimensions;
            if (d[1] == 0 || d[2] == 0)
                throw new DatasetFormatException(path, $"images have a zero size ({d[1]}×{d[2]})");
            return new long[] { d[0], 1, d[1], d[2] };
        });
    }

    /// <summary>Reads a label file (magic 2049) into an int64 tensor N.</summary>
    /// <exception cref="DatasetFormatException">The file is missing, malformed or not a label file.</exception>
    public static Tensor ReadLabels(string path, IdxReadLimits? limits = null)
    {
        using var bytes = ReadTensor(path, limits ?? IdxReadLimits.Default, LabelsMagic, header => new long[] { header.Dimensions[0] });
        return bytes.to_type(ScalarType.Int64);
    }

    /// <summary>Reads and validates only the header.</summary>
    /// <exception cref="DatasetFormatException">The file is missing or its header is malformed.</exception>
    public static IdxHeader ReadHeader(string path, IdxReadLimits? limits = null)
    {
        using var stream = Open(path, out _, out _);
        return ParseHeader(stream, path, limits ?? IdxReadLimits.Default);
    }

    /// <summary>True when the bytes start with the gzip signature.</summary>
    public static bool IsGzip(ReadOnlySpan<byte> firstBytes) => firstBytes.Length >= 2 && firstBytes[0] == 0x1f && firstBytes[1] == 0x8b;

    // Decompresses (or reads) straight into the tensor's own memory: no intermediate managed array, no second copy.
    private static Tensor ReadTensor(string path, IdxReadLimits limits, int? expectedMagic, Func<IdxHeader, long[]> shapeOf)
    {
        using var stream = Open(path, out bool gzip, out long fileLength);
        var header = ParseHeader(stream, path, limits, expectedMagic);

        long count = header.ElementCount;
        long expectedTotal = header.HeaderLength + count;
        if (!gzip && fileLength != expectedTotal)
        {
            throw new DatasetFormatException(path, fileLength < expectedTotal
                ? $"truncated: the header declares {count:N0} bytes of data but the file holds {fileLength - header.HeaderLength:N0}"
                : $"{fileLength - expectedTotal:N0} unexpected bytes after the {count:N0} bytes the header declares");
        }
        if (gzip)
        {
            // The gzip trailer stores the uncompressed size modulo 2^32: check it before allocating.
            uint declared = ReadGzipTrailerSize(path);
            if (declared != (uint)expectedTotal)
                throw new DatasetFormatException(path, $"the header declares {count:N0} bytes of data but the gzip stream holds {declared - (uint)header.HeaderLength:N0} (truncated or corrupt)");
        }

        var result = torch.empty(shapeOf(header), ScalarType.Byte);
        try
        {
            if (count > 0)
                stream.ReadExactly(result.bytes);
            if (gzip && stream.ReadByte() != -1)
                throw new DatasetFormatException(path, $"unexpected bytes after the {count:N0} bytes the header declares");
            return result;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or DatasetFormatException)
        {
            result.Dispose();
            if (e is DatasetFormatException)
                throw;
            throw new DatasetFormatException(path, e is EndOfStreamException
                ? $"truncated: the data ends before the {count:N0} bytes the header declares"
                : $"corrupt gzip stream: {e.Message}", e);
        }
    }

    private static Stream Open(string path, out bool gzip, out long length)
    {
        var file = DatasetFileStream.OpenRead(path);
        length = file.Length;
        if (length == 0)
        {
            file.Dispose();
            throw new DatasetFormatException(path, "the file is empty");
        }
        Span<byte> signature = stackalloc byte[2];
        int read = file.Read(signature);
        file.Position = 0;
        gzip = IsGzip(signature[..read]);
        return gzip ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: false) : file;
    }

    /// <summary>
    /// Reads the header; with <paramref name="expectedMagic"/> (the file's role: images or labels) the magic number is checked
    /// first, so a file of the wrong role or no IDX file at all is named as such before its dimensions are interpreted.
    /// </summary>
    private static IdxHeader ParseHeader(Stream stream, string path, IdxReadLimits limits, int? expectedMagic = null)
    {
        Span<byte> prefix = stackalloc byte[4];
        ReadHeaderBytes(stream, prefix, path, "magic number");
        int found = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (expectedMagic is int magic && found != magic)
        {
            string expected = magic == ImagesMagic
                ? "an image file (magic 0x00000803: unsigned bytes, 3 dimensions)"
                : "a label file (magic 0x00000801: unsigned bytes, 1 dimension)";
            string what = found switch
            {
                ImagesMagic => "an image file",
                LabelsMagic => "a label file",
                _ when prefix[0] == 0 && prefix[1] == 0 => $"an IDX file of element type 0x{prefix[2]:X2} with {prefix[3]} dimensions",
                _ => "not an IDX file",
            };
            throw new DatasetFormatException(path, $"wrong magic number 0x{found:X8} ({what}): expected {expected}");
        }
        if (prefix[0] != 0 || prefix[1] != 0)
            throw new DatasetFormatException(path, $"wrong magic number 0x{BinaryPrimitives.ReadInt32BigEndian(prefix):X8}: not an IDX file");
        if (prefix[2] != UnsignedByteType)
            throw new DatasetFormatException(path, $"element type 0x{prefix[2]:X2} is not supported: FashionVision reads unsigned-byte (0x08) IDX files");
        int rank = prefix[3];
        if (rank == 0 || rank > limits.MaxDimensions)
            throw new DatasetFormatException(path, $"{rank} dimensions declared; between 1 and {limits.MaxDimensions} are supported");

        Span<byte> sizes = stackalloc byte[4 * rank];
        ReadHeaderBytes(stream, sizes, path, "dimension sizes");
        var dimensions = new int[rank];
        long product = 1;
        for (int i = 0; i < rank; i++)
        {
            uint size = BinaryPrimitives.ReadUInt32BigEndian(sizes.Slice(4 * i, 4));
            if (size > int.MaxValue)
                throw new DatasetFormatException(path, $"dimension {i} has the absurd size {size:N0}");
            dimensions[i] = (int)size;
            try
            {
                product = checked(product * size);
            }
            catch (OverflowException e)
            {
                throw new DatasetFormatException(path, $"the dimensions [{string.Join(", ", dimensions.Take(i + 1))}, …] multiply past 2^63", e);
            }
        }
        if (product > limits.MaxElements)
            throw new DatasetFormatException(path, $"the dimensions [{string.Join(", ", dimensions)}] declare {product:N0} elements, more than the limit of {limits.MaxElements:N0}");
        return new IdxHeader(BinaryPrimitives.ReadInt32BigEndian(prefix), dimensions, 4 + 4 * rank);
    }

    private static void ReadHeaderBytes(Stream stream, Span<byte> buffer, string path, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new DatasetFormatException(path, $"truncated header: the file ends inside the {what}", e);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException(path, $"corrupt gzip stream: {e.Message}", e);
        }
    }

    private static uint ReadGzipTrailerSize(string path)
    {
        using var file = File.OpenRead(path);
        if (file.Length < 18)
            throw new DatasetFormatException(path, "corrupt gzip stream: shorter than a gzip header and trailer");
        file.Seek(-4, SeekOrigin.End);
        Span<byte> trailer = stackalloc byte[4];
        file.ReadExactly(trailer);
        return BinaryPrimitives.ReadUInt32LittleEndian(trailer);
    }
}
