using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;

namespace FashionVision.IO;

/// <summary>
/// Writes a TensorBoard event file (<c>events.out.tfevents.*</c>): scalars and PNG images as <c>Event</c> protocol-buffer
/// records in TFRecord framing (length, masked CRC-32C of the length, record, masked CRC-32C of the record). Point
/// <c>tensorboard --logdir</c> at the folder.
/// </summary>
/// <remarks>
/// <para>The file is an append-only log that TensorBoard reads while it grows, so unlike the library's other files it is
/// not written through <see cref="AtomicFile"/>: records are appended and <see cref="Flush"/> hands them to the operating
/// system. A run that dies mid-record leaves a torn last record, which the framing's checksums let readers detect and skip.</para>
/// <para>Steps are 64-bit and wall times are seconds since the Unix epoch with sub-second precision. TorchSharp's
/// <c>torch.utils.tensorboard.SummaryWriter</c> writes the same format but takes 32-bit steps, whole-second wall times and
/// images only as tensors or files (re-encoding them); the charts this library renders are PNG bytes already.</para>
/// <para>Thread-safe. The record encoding needs no protobuf library: the few fields used are written by hand.</para>
/// </remarks>
public sealed class TensorBoardEventWriter : IDisposable
{
    private static int s_fileCounter;
    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private FileStream? _stream;

    /// <summary>Creates the folder if needed and starts a new event file in it.</summary>
    /// <param name="logDirectory">The run's folder (TensorBoard shows each folder under <c>--logdir</c> as a run).</param>
    /// <param name="clock">The source of wall times (default: the system clock).</param>
    /// <exception cref="ArgumentException"><paramref name="logDirectory"/> is empty.</exception>
    public TensorBoardEventWriter(string logDirectory, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(logDirectory);
        _clock = clock ?? TimeProvider.System;
        LogDirectory = Path.GetFullPath(logDirectory);
        Directory.CreateDirectory(LogDirectory);
        long seconds = _clock.GetUtcNow().ToUnixTimeSeconds();
        string host = string.Concat(Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
        FilePath = Path.Combine(LogDirectory, $"events.out.tfevents.{seconds}.{host}.{Environment.ProcessId}.{Interlocked.Increment(ref s_fileCounter)}");
        _stream = new FileStream(FilePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        var header = new ProtoBuffer();
        header.Double(1, WallTime());
        header.String(3, "brain.Event:2");
        WriteRecord(header.ToArray());
        Flush();
    }

    /// <summary>The folder the event file is in.</summary>
    public string LogDirectory { get; }

    /// <summary>The event file.</summary>
    public string FilePath { get; }

    /// <summary>Adds a scalar (stored as a 32-bit float, as TensorBoard's <c>simple_value</c> is).</summary>
    /// <param name="tag">The series name; a slash groups series into one section (<c>loss/train</c>, <c>loss/validation</c>).</param>
    /// <param name="value">The value.</param>
    /// <param name="step">The x coordinate.</param>
    public void AddScalar(string tag, double value, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        var summaryValue = new ProtoBuffer();
        summaryValue.String(1, tag);
        summaryValue.Float(2, (float)value);
        WriteSummary(step, summaryValue);
    }

    /// <summary>Adds an encoded image (PNG, JPEG or GIF bytes).</summary>
    /// <param name="tag">The image series name.</param>
    /// <param name="encodedImage">The encoded image file's bytes.</param>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="channels">1 (grayscale), 2 (grayscale + alpha), 3 (RGB) or 4 (RGBA).</param>
    /// <param name="step">The x coordinate (TensorBoard shows a slider over steps).</param>
    /// <exception cref="ArgumentException">The image is empty, a size is not positive, or the channel count is not 1–4.</exception>
    public void AddImage(string tag, ReadOnlySpan<byte> encodedImage, int width, int height, int channels, long step)
    {
        ArgumentException.ThrowIfNullOrEmpty(tag);
        if (encodedImage.IsEmpty)
            throw new ArgumentException("The encoded image is empty.", nameof(encodedImage));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (channels is < 1 or > 4)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "An image has 1 to 4 channels.");
        var image = new ProtoBuffer();
        image.Varint(1, (ulong)height);
        image.Varint(2, (ulong)width);
        image.Varint(3, (ulong)channels);
        image.Bytes(4, encodedImage);
        var summaryValue = new ProtoBuffer();
        summaryValue.String(1, tag);
        summaryValue.Bytes(4, image.ToArray());
        WriteSummary(step, summaryValue);
    }

    /// <summary>Adds a PNG image, reading its size and channel count from the file's header.</summary>
    /// <param name="tag">The image series name.</param>
    /// <param name="png">The PNG file's bytes.</param>
    /// <param name="step">The x coordinate.</param>
    /// <exception cref="ArgumentException">The bytes do not start with a PNG signature and header.</exception>
    public void AddPng(string tag, ReadOnlySpan<byte> png, long step)
    {
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (png.Length < 33 || !png[..8].SequenceEqual(signature) || !png.Slice(12, 4).SequenceEqual("IHDR"u8))
            throw new ArgumentException("The bytes are not a PNG file (no PNG signature and IHDR header).", nameof(png));
        int width = BinaryPrimitives.ReadInt32BigEndian(png.Slice(16, 4));
        int height = BinaryPrimitives.ReadInt32BigEndian(png.Slice(20, 4));
        int channels = png[25] switch
        {
            0 => 1,       // grayscale
            4 => 2,       // grayscale + alpha
            6 => 4,       // RGBA
            _ => 3,       // RGB, palette
        };
        AddImage(tag, png, width, height, channels, step);
    }

    /// <summary>Hands everything written so far to the operating system, so TensorBoard sees it.</summary>
    public void Flush()
    {
        lock (_gate)
            _stream?.Flush();
    }

    /// <summary>Flushes and closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private void WriteSummary(long step, ProtoBuffer summaryValue)
    {
        var summary = new ProtoBuffer();
        summary.Bytes(1, summaryValue.ToArray());
        var evt = new ProtoBuffer();
        evt.Double(1, WallTime());
        evt.Varint(2, unchecked((ulong)step));
        evt.Bytes(5, summary.ToArray());
        WriteRecord(evt.ToArray());
    }

    private double WallTime() => _clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private void WriteRecord(byte[] record)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)record.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Crc32C.Masked(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, Crc32C.Masked(record));
        lock (_gate)
        {
            var stream = _stream ?? throw new ObjectDisposedException(nameof(TensorBoardEventWriter), $"The event file '{FilePath}' is closed.");
            stream.Write(header);
            stream.Write(record);
            stream.Write(footer);
        }
    }

    /// <summary>Protocol-buffer wire encoding of the few field kinds an event needs.</summary>
    private sealed class ProtoBuffer
    {
        private readonly MemoryStream _bytes = new();

        public void Varint(int field, ulong value)
        {
            Key(field, 0);
            WriteVarint(value);
        }

        public void Double(int field, double value)
        {
            Key(field, 1);
            Span<byte> bytes = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(bytes, value);
            _bytes.Write(bytes);
        }

        public void Float(int field, float value)
        {
            Key(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            _bytes.Write(bytes);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Bytes(int field, ReadOnlySpan<byte> value)
        {
            Key(field, 2);
            WriteVarint((ulong)value.Length);
            _bytes.Write(value);
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void Key(int field, int wireType)
        {
            Debug.Assert(field > 0);
            WriteVarint((ulong)((field << 3) | wireType));
        }

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
