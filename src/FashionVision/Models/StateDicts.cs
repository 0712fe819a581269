using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Loads named tensors (a state dict: from safetensors, from PyTorch via safetensors, from another model) into a module with
/// strict name and shape checks and an optional name mapping.
/// </summary>
public static class StateDicts
{
    /// <summary>The suffix of BatchNorm's batch counter, which checkpoints from PyTorch before 0.4.1 lack.</summary>
    public const string NumBatchesTrackedSuffix = "num_batches_tracked";

    /// <summary>
    /// Copies <paramref name="source"/> into the parameters and buffers of <paramref name="model"/> (converting dtype and
    /// device). Every source key is first passed through <paramref name="mapName"/>; a null result drops the key.
    /// </summary>
    /// <param name="model">The module to load into.</param>
    /// <param name="source">Name → tensor.</param>
    /// <param name="strict">
    /// When true (the default) the mapped keys must be exactly the model's keys — except that a missing
    /// <c>num_batches_tracked</c> is tolerated (left as it is) — or nothing is loaded. When false, missing and unexpected
    /// keys are reported in the result instead.
    /// </param>
    /// <param name="mapName">Maps a source key to the model's key, or to null to skip it (e.g. <see cref="TorchvisionNames.ResNet18"/>).</param>
    /// <param name="sourceName">Where the weights came from, for error messages.</param>
    /// <returns>The loaded, missing and unexpected keys.</returns>
    /// <exception cref="StateDictMismatchException">
    /// A shape differs (always), or — when strict — a key is missing or unexpected; the model is left unchanged.
    /// </exception>
    /// <exception cref="ArgumentException">Two source keys map to the same model key.</exception>
    public static StateDictLoadResult Load(nn.Module model, IReadOnlyDictionary<string, Tensor> source, bool strict = true,
        Func<string, string?>? mapName = null, string sourceName = "state dict")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        var target = model.state_dict();
        var mapped = new Dictionary<string, (string Original, Tensor Tensor)>(StringComparer.Ordinal);
        foreach (var (key, tensor) in source)
        {
            string? name = mapName is null ? key : mapName(key);
            if (name is null)
                continue;
            if (!mapped.TryAdd(name, (key, tensor)))
                throw new ArgumentException($"Source keys '{mapped[name].Original}' and '{key}' both map to '{name}'.", nameof(mapName));
        }

        var missing = target.Keys.Where(k => !mapped.ContainsKey(k)).ToList();
        var unexpected = mapped.Keys.Where(k => !target.ContainsKey(k)).ToList();
        var mismatched = mapped.Where(kv => target.ContainsKey(kv.Key) && !target[kv.Key].shape.SequenceEqual(kv.Value.Tensor.shape))
            .Select(kv => new ShapeMismatch(kv.Key, target[kv.Key].shape, kv.Value.Tensor.shape)).ToList();
        var fatalMissing = missing.Where(k => !k.EndsWith(NumBatchesTrackedSuffix, StringComparison.Ordinal)).ToList();
        if (mismatched.Count > 0 || (strict && (fatalMissing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictMismatchException(sourceName, strict ? fatalMissing : Array.Empty<string>(),
                strict ? unexpected : Array.Empty<string>(), mismatched);

        var loaded = new List<string>();
        using (no_grad())
        {
            foreach (var (key, value) in mapped)
            {
                if (!target.TryGetValue(key, out var destination))
                    continue;
                using var scope = NewDisposeScope();
                destination.copy_(value.Tensor.to(destination.dtype, destination.device));
                loaded.Add(key);
            }
        }
        return new StateDictLoadResult(loaded, missing, unexpected);
    }
}
