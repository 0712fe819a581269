using FashionVision.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>Saves and loads a model's weights (parameters and buffers), in TorchSharp's own format or as safetensors; writes are atomic.</summary>
public static class ModelWeights
{
    /// <summary>Saves the state dict in TorchSharp's format (<c>Module.save</c>), through a temporary file and a rename.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file.</param>
    public static void Save(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            model.save(writer);
            writer.Flush();
        });
    }

    /// <summary>Loads a state dict saved by <see cref="Save"/> (or <c>Module.save</c>) into <paramref name="model"/>.</summary>
    /// <param name="model">A model of the same architecture.</param>
    /// <param name="path">The file.</param>
    /// <param name="strict">Whether every key must match.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">The file does not fit the model (TorchSharp's message names the key).</exception>
    public static void Load(nn.Module model, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Weights file '{path}' does not exist.", path);
        model.load(path, strict);
    }

    /// <summary>Saves the state dict (parameters and buffers) as a safetensors file, atomically.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file.</param>
    /// <param name="metadata">Optional string metadata (e.g. the model name and class names).</param>
    public static void SaveSafeTensors(nn.Module model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        SafeTensors.Write(path, model.state_dict(), metadata);
    }

    /// <summary>Loads a safetensors file into <paramref name="model"/> with <see cref="StateDicts.Load"/>'s name and shape checks.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file.</param>
    /// <param name="strict">Whether every key must match (a missing <c>num_batches_tracked</c> is always tolerated).</param>
    /// <param name="mapName">Maps a file key to a model key, or to null to skip it.</param>
    /// <returns>What was loaded.</returns>
    /// <exception cref="StateDictMismatchException">Names or shapes do not fit; the message lists them.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is malformed.</exception>
    public static StateDictLoadResult LoadSafeTensors(nn.Module model, string path, bool strict = true, Func<string, string?>? mapName = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = SafeTensors.Read(path);
        try
        {
            return StateDicts.Load(model, tensors, strict, mapName, path);
        }
        finally
        {
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
        }
    }
}
