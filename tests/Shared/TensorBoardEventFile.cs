using System.Buffers.Binary;

namespace FashionVision.Tests.Shared;

/// <summary>
/// Reads a TensorBoard event file back for tests, independently of the writer: parses the TFRecord framing, checks both
/// masked CRC-32C checksums of every record with a bitwise CRC (not the library's), and decodes each record with the
/// protobuf classes TorchSharp generated from TensorFlow's event.proto.
/// </summary>
internal static class TensorBoardEventFile
{
    public sealed record Scalar(string Tag, long Step, float Value, double WallTime);

    public sealed record Image(string Tag, long Step, int Width, int Height, int Channels, byte[] Encoded);

    /// <summary>Every event of the file, in order; throws when a length or record checksum is wrong or a record is torn.</summary>
    public static List<Tensorboard.Event> Read(string path)
    {
        // TensorBoard reads while the trainer writes: open the way it does, sharing the file with the writer.
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var copy = new MemoryStream())
        {
            stream.CopyTo(copy);
            bytes = copy.ToArray();
        }
        var events = new List<Tensorboard.Event>();
        int offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < 12)
                throw new InvalidDataException($"{path}: a torn record header at byte {offset}.");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(offset, 8));
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8, 4));
            if (lengthCrc != MaskedCrc(bytes.AsSpan(offset, 8)))
                throw new InvalidDataException($"{path}: the length checksum of the record at byte {offset} is wrong.");
            if ((ulong)(bytes.Length - offset - 16) < length)
                throw new InvalidDataException($"{path}: the record at byte {offset} is torn.");
            var record = bytes.AsSpan(offset + 12, (int)length);
            uint recordCrc = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 12 + (int)length, 4));
            if (recordCrc != MaskedCrc(record))
                throw new InvalidDataException($"{path}: the data checksum of the record at byte {offset} is wrong.");
            events.Add(Tensorboard.Event.Parser.ParseFrom(record.ToArray()));
            offset += 16 + (int)length;
        }
        return events;
    }

    /// <summary>The only event file in <paramref name="directory"/>.</summary>
    public static string Single(string directory) => Directory.GetFiles(directory, "events.out.tfevents.*").Single();

    public static List<Scalar> Scalars(string path) => Read(path)
        .Where(e => e.Summary is not null)
        .SelectMany(e => e.Summary.Value.Where(v => v.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.SimpleValue)
            .Select(v => new Scalar(v.Tag, e.Step, v.SimpleValue, e.WallTime)))
        .ToList();

    public static List<Image> Images(string path) => Read(path)
        .Where(e => e.Summary is not null)
        .SelectMany(e => e.Summary.Value.Where(v => v.ValueCase == Tensorboard.Summary.Types.Value.ValueOneofCase.Image)
            .Select(v => new Image(v.Tag, e.Step, v.Image.Width, v.Image.Height, v.Image.Colorspace, v.Image.EncodedImageString.ToByteArray())))
        .ToList();

    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        crc = ~crc;
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
