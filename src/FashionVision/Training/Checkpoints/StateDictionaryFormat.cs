using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// The tensor-set encoding inside checkpoints: "FVSD" magic, int32 count, then for each entry its name (a .NET
/// length-prefixed UTF-8 string) and the tensor in TorchSharp's own encoding (<c>TensorExtensionMethods.Save</c>).
/// </summary>
internal static class StateDictionaryFormat
{
    private const int Magic = 0x44535646; // "FVSD"

    public static byte[] ToBytes(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var entries = tensors.ToList();
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(entries.Count);
            foreach (var (name, tensor) in entries)
            {
                writer.Write(name);
                using var scope = NewDisposeScope();
                tensor.detach().cpu().Save(writer);
            }
        }
        return memory.ToArray();
    }

    public static Dictionary<string, Tensor> FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        if (bytes.Length < 8 || reader.ReadInt32() != Magic)
            throw new InvalidDataException("A tensor set has a wrong magic number.");
        int count = reader.ReadInt32();
        if (count < 0 || count > 1_000_000)
            throw new InvalidDataException($"A tensor set claims {count} entries.");
        var result = new Dictionary<string, Tensor>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                result[name] = TensorExtensionMethods.Load(reader).DetachFromDisposeScope();
            }
        }
        catch
        {
            foreach (var t in result.Values)
                t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Checks names and shapes, then copies <paramref name="source"/> into <paramref name="model"/>'s state dict.</summary>
    public static void CopyInto(nn.Module model, IReadOnlyDictionary<string, Tensor> source, string what, string? hint = null)
    {
        var target = model.state_dict();
        var missing = target.Keys.Where(k => !source.ContainsKey(k)).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var mismatched = target.Where(kv => source.TryGetValue(kv.Key, out var s) && !s.shape.SequenceEqual(kv.Value.shape))
            .Select(kv => $"{kv.Key}: checkpoint [{string.Join(", ", source[kv.Key].shape)}] vs model [{string.Join(", ", kv.Value.shape)}]")
            .ToList();
        if (missing.Count + unexpected.Count + mismatched.Count > 0)
        {
            static string List(List<string> items) => items.Count == 0 ? "none" : string.Join(", ", items.Take(8)) + (items.Count > 8 ? $" … ({items.Count} in all)" : "");
            throw new CheckpointMismatchException(
                $"The weights in {what} do not fit the model {model.GetType().Name}. {hint}" +
                $"Missing keys: {List(missing)}. Unexpected keys: {List(unexpected)}. Shape mismatches: {List(mismatched)}.",
                missing, unexpected, mismatched);
        }
        using var noGrad = no_grad();
        foreach (var (name, tensor) in target)
            tensor.copy_(source[name]);
    }
}
