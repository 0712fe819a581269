using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>A callback's state inside a checkpoint: named numbers, strings and tensor sets.</summary>
public sealed class CallbackState
{
    /// <summary>Named numbers (counters, best values).</summary>
    public Dictionary<string, double> Values { get; } = new();

    /// <summary>Named strings.</summary>
    public Dictionary<string, string> Strings { get; } = new();

    /// <summary>Serialised tensor sets, by name (see <see cref="SetTensors"/>).</summary>
    internal Dictionary<string, byte[]> TensorSets { get; } = new();

    /// <summary>True when nothing was stored.</summary>
    public bool IsEmpty => Values.Count == 0 && Strings.Count == 0 && TensorSets.Count == 0;

    /// <summary>Stores a named set of tensors (copied to CPU bytes now).</summary>
    public void SetTensors(string name, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(tensors);
        TensorSets[name] = StateDictionaryFormat.ToBytes(tensors);
    }

    /// <summary>Reads a named set of tensors (on the CPU; the caller disposes them), or null when absent.</summary>
    public Dictionary<string, Tensor>? GetTensors(string name) =>
        TensorSets.TryGetValue(name, out var bytes) ? StateDictionaryFormat.FromBytes(bytes) : null;
}
