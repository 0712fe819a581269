using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FashionVision.IO;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face; the format PyTorch users export weights in): an 8-byte
/// little-endian header length, a UTF-8 JSON header mapping each tensor name to its <c>dtype</c>, <c>shape</c> and
/// <c>data_offsets</c> (begin, end) in the data section, an optional <c>__metadata__</c> map of strings, then the raw
/// little-endian tensor bytes.
/// </summary>
/// <remarks>
/// Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL. The reader checks everything before allocating: header
/// size, JSON shape, known dtypes, non-negative shapes, offsets inside the file, byte sizes that match the shapes, and no
/// overlapping tensors; any violation throws <see cref="SafeTensorsFormatException"/> naming the file and the problem.
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest JSON header the reader accepts (100 MB, as the reference implementation).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F64"] = ScalarType.Float64,
        ["F32"] = ScalarType.Float32,
        ["F16"] = ScalarType.Float16,
        ["BF16"] = ScalarType.BFloat16,
        ["I64"] = ScalarType.Int64,
        ["I32"] = ScalarType.Int32,
        ["I16"] = ScalarType.Int16,
        ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte,
        ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Reads every tensor of a safetensors file onto the CPU, in the file's dtypes.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Name → tensor, in the order of the file's header.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is malformed.</exception>
    public static Dictionary<string, Tensor> Read(string path) => Read(path, out _);

    /// <summary>Reads every tensor of a safetensors file onto the CPU, and its <c>__metadata__</c> map.</summary>
    /// <param name="path">The file.</param>
    /// <param name="metadata">The string → string metadata (empty when the file has none).</param>
    /// <returns>Name → tensor, in the order of the file's header.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is malformed.</exception>
    public static Dictionary<string, Tensor> Read(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Safetensors file '{path}' does not exist.", path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path, out metadata);
    }

    /// <summary>Reads every tensor from a seekable stream positioned at the start of safetensors data.</summary>
    /// <param name="stream">A readable, seekable stream.</param>
    /// <param name="sourceName">Name used in error messages (a file name).</param>
    /// <param name="metadata">The string → string metadata (empty when there is none).</param>
    /// <exception cref="SafeTensorsFormatException">The data is malformed.</exception>
    public static Dictionary<string, Tensor> Read(Stream stream, string sourceName, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek)
            throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        long start = stream.Position;
        long available = stream.Length - start;
        if (available < 8)
            throw new SafeTensorsFormatException(sourceName, $"it has {available} bytes, fewer than the 8-byte header length.");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new SafeTensorsFormatException(sourceName, $"the header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit.");
        if ((long)headerLength > available - 8)
            throw new SafeTensorsFormatException(sourceName, $"the header length {headerLength} runs past the end of the file ({available} bytes).");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = start + 8 + (long)headerLength;
        long dataLength = stream.Length - dataStart;

        var entries = ParseHeader(headerBytes, sourceName, dataLength, out metadata);
        var result = new Dictionary<string, Tensor>(entries.Count, StringComparer.Ordinal);
        try
        {
            foreach (var entry in entries)
            {
                var tensor = empty(entry.Shape, entry.DType);
                if (entry.End > entry.Begin)
                {
                    stream.Position = dataStart + entry.Begin;
                    stream.ReadExactly(tensor.bytes);
                }
                result.Add(entry.Name, tensor);
            }
        }
        catch
        {
            foreach (var tensor in result.Values)
                tensor.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Writes tensors (any device; they are copied to the CPU) to a safetensors file, atomically.</summary>
    /// <param name="path">The file; written to a temporary file in the same folder and renamed, so it is never partial.</param>
    /// <param name="tensors">Name → tensor. Names must be unique and not <c>__metadata__</c>.</param>
    /// <param name="metadata">Optional string → string metadata stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">A tensor has a dtype the format cannot store, or a name is reserved or empty.</exception>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        using var scope = NewDisposeScope();
        var items = new List<(string Name, string DType, Tensor Tensor)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
                throw new ArgumentException($"Tensor name '{name}' is empty or reserved.", nameof(tensors));
            if (!names.Add(name))
                throw new ArgumentException($"Tensor name '{name}' appears twice.", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            string dtype = DTypes.FirstOrDefault(kv => kv.Value == tensor.dtype).Key
                ?? throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors cannot store here.", nameof(tensors));
            items.Add((name, dtype, tensor.detach().cpu().contiguous()));
        }
        items.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        var header = BuildHeader(items, metadata);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)header.Length);
            stream.Write(lengthBytes);
            stream.Write(header);
            foreach (var item in items)
                stream.Write(item.Tensor.bytes);
        });
    }

    private static byte[] BuildHeader(List<(string Name, string DType, Tensor Tensor)> items, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, tensor) in items)
            {
                long size = tensor.numel() * ElementSize(tensor.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (long dim in tensor.shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + size);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += size;
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
        int padding = (int)((8 - buffer.Length % 8) % 8);
        for (int i = 0; i < padding; i++)
            buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private sealed record Entry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    private static List<Entry> ParseHeader(byte[] headerBytes, string source, long dataLength, out IReadOnlyDictionary<string, string> metadata)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(source, $"the header is not valid JSON ({e.Message}).", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(source, "the header is not a JSON object.");
            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new SafeTensorsFormatException(source, "__metadata__ is not an object.");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String)
                            throw new SafeTensorsFormatException(source, $"__metadata__ value '{item.Name}' is not a string.");
                        meta[item.Name] = item.Value.GetString()!;
                    }
                    continue;
                }
                entries.Add(ParseEntry(property, source, dataLength));
            }

            long previousEnd = 0;
            foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (entry.Begin < previousEnd)
                    throw new SafeTensorsFormatException(source, $"tensor '{entry.Name}' overlaps another tensor's data.");
                previousEnd = entry.End;
            }
            metadata = meta;
            return entries;
        }
    }

    private static Entry ParseEntry(JsonProperty property, string source, long dataLength)
    {
        string name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsFormatException(source, $"the entry of tensor '{name}' is not an object.");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new SafeTensorsFormatException(source, $"tensor '{name}' has no dtype string.");
        string dtypeName = dtypeElement.GetString()!;
        if (!DTypes.TryGetValue(dtypeName, out var dtype))
            throw new SafeTensorsFormatException(source,
                $"tensor '{name}' has dtype '{dtypeName}'; supported: {string.Join(", ", DTypes.Keys)}.");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsFormatException(source, $"tensor '{name}' has no shape array.");
        var shape = new long[shapeElement.GetArrayLength()];
        long elements = 1;
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw new SafeTensorsFormatException(source, $"tensor '{name}' has a shape entry that is not a non-negative integer.");
            shape[i++] = size;
            try
            {
                elements = checked(elements * size);
            }
            catch (OverflowException)
            {
                throw new SafeTensorsFormatException(source, $"tensor '{name}' has a shape whose size overflows.");
            }
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
            throw new SafeTensorsFormatException(source, $"tensor '{name}' has no data_offsets pair of integers.");
        if (begin < 0 || end < begin || end > dataLength)
            throw new SafeTensorsFormatException(source,
                $"tensor '{name}' has data_offsets [{begin}, {end}] outside the {dataLength}-byte data section.");
        long expected;
        try
        {
            expected = checked(elements * ElementSize(dtype));
        }
        catch (OverflowException)
        {
            throw new SafeTensorsFormatException(source, $"tensor '{name}' has a shape whose size overflows.");
        }
        if (end - begin != expected)
            throw new SafeTensorsFormatException(source,
                $"tensor '{name}' ({dtypeName}, shape [{string.Join(", ", shape)}]) needs {expected} bytes but data_offsets span {end - begin}.");
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };
}
