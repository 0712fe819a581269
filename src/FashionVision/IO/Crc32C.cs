using System.Buffers.Binary;
using System.Numerics;

namespace FashionVision.IO;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of TFRecord framing, with the "masking" TensorFlow applies to stored checksums.
/// Uses the processor's CRC32C instruction where there is one (<see cref="BitOperations.Crc32C(uint, ulong)"/>).
/// </summary>
internal static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/> (initial value and final XOR 0xFFFFFFFF, as iSCSI and TFRecord use it).</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        uint crc = uint.MaxValue;
        while (data.Length >= sizeof(ulong))
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[sizeof(ulong)..];
        }
        foreach (byte b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>TensorFlow's masked CRC: rotate right by 15 bits and add 0xa282ead8, so a CRC stored inside CRC-checked data does not checksum to a constant.</summary>
    public static uint Masked(ReadOnlySpan<byte> data)
    {
        uint crc = Compute(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }
}
