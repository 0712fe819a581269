using System.Buffers.Binary;
using System.IO.Compression;
using FashionVision.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Data;

/// <summary>
/// Writes uint8 tensors as IDX files (the format <see cref="IdxReader"/> reads), raw or gzip-compressed, atomically
/// (through <see cref="AtomicFile"/>). Used to cache decoded datasets and to export subsets.
/// </summary>
public static class IdxWriter
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>Writes a uint8 tensor of any rank (1 to 8) as an IDX file with the tensor's dimensions.</summary>
    /// <param name="path">The file to write; its folder is created if needed.</param>
    /// <param name="data">A uint8 tensor, on any device.</param>
    /// <param name="gzip">Compress with gzip (the reader detects it from the bytes).</param>
    /// <exception cref="ArgumentException">The tensor is not uint8, has no or too many dimensions, or a dimension too large for IDX.</exception>
    public static void Write(string path, Tensor data, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.dtype != ScalarType.Byte)
            throw new ArgumentException($"IDX files hold uint8 data; got {data.dtype}.", nameof(data));
        WriteBytes(path, data, data.shape, gzip);
    }

    /// <summary>Writes grayscale images N×1×H×W as an MNIST-style image file (magic 2051, N×H×W).</summary>
    /// <exception cref="ArgumentException">The tensor is not uint8 N×1×H×W.</exception>
    public static void WriteImages(string path, Tensor images, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dtype != ScalarType.Byte || images.dim() != 4 || images.shape[1] != 1)
            throw new ArgumentException($"MNIST-style image files hold uint8 N×1×H×W images; got {images.dtype} [{string.Join(", ", images.shape)}]. Use Write for other shapes.", nameof(images));
        WriteBytes(path, images, [images.shape[0], images.shape[2], images.shape[3]], gzip);
    }

    /// <summary>Writes labels (any integer dtype, each in [0, 255]) as an MNIST-style label file (magic 2049).</summary>
    /// <exception cref="ArgumentException">The tensor is not 1-D, or a label lies outside [0, 255].</exception>
    public static void WriteLabels(string path, Tensor labels, bool gzip = false)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.dim() != 1 || labels.is_floating_point())
            throw new ArgumentException($"Labels must be a 1-D integer tensor; got {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        using var scope = NewDisposeScope();
        if (labels.numel() > 0)
        {
            long min = labels.min().item<long>(), max = labels.max().item<long>();
            if (min < 0 || max > byte.MaxValue)
                throw new ArgumentException($"IDX label files hold labels in [0, 255]; these range over [{min}, {max}].", nameof(labels));
        }
        WriteBytes(path, labels.to_type(ScalarType.Byte), labels.shape, gzip);
    }

    private static void WriteBytes(string path, Tensor data, long[] dimensions, bool gzip)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (dimensions.Length is 0 or > 8)
            throw new ArgumentException($"IDX files have 1 to 8 dimensions; got {dimensions.Length}.", nameof(data));
        if (dimensions.Any(d => d > int.MaxValue))
            throw new ArgumentException($"A dimension of [{string.Join(", ", dimensions)}] is too large for an IDX header.", nameof(data));

        var header = new byte[4 + 4 * dimensions.Length];
        header[2] = UnsignedByteType;
        header[3] = (byte)dimensions.Length;
        for (int i = 0; i < dimensions.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), (int)dimensions[i]);

        using var scope = NewDisposeScope();
        var contiguous = data.cpu().contiguous();
        AtomicFile.Write(path, stream =>
        {
            if (!gzip)
            {
                WriteTo(stream);
                return;
            }
            using var compressed = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
            WriteTo(compressed);
        });

        void WriteTo(Stream target)
        {
            target.Write(header);
            if (contiguous.numel() > 0)
                target.Write(contiguous.bytes);
        }
    }
}
