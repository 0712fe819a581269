using System.Buffers.Binary;
using System.Collections;
using FashionVision.IO;
using FashionVision.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace FashionVision.TorchVision.Weights;

/// <summary>
/// Loads and saves state dicts in the formats PyTorch users hand around: <c>.pth</c>/<c>.pt</c> (<c>torch.save</c>'s zip
/// pickle, through TorchSharp.PyBridge), <c>.safetensors</c>, and TorchSharp's own format, into any model whose state-dict
/// names match: the zoo's own (<c>resnet18-imagenet</c> uses torchvision's names) and the torchvision models of this package.
/// </summary>
/// <remarks>
/// <para>Which reader does what: the pickle is parsed by PyBridge (<c>PyTorchUnpickler</c>, <c>PyTorchPickler</c>); safetensors
/// go through the core's <see cref="SafeTensors"/> reader, which checks the header, dtypes, shapes and offsets before it
/// allocates and names the file in a <see cref="SafeTensorsFormatException"/> (PyBridge's own safetensors reader trusts the
/// header; the tests measure the difference on malformed files); names and shapes are then checked and copied by
/// <see cref="StateDicts.Load"/>, which lists every missing, unexpected or mismatched key (PyBridge's <c>load_py</c> reports
/// "not identical" without names and does not compare shapes).</para>
/// <para>The format is recognised from the file's first bytes: a zip archive is a PyTorch pickle, a length-prefixed JSON
/// header is safetensors, anything else is tried as TorchSharp's format. Pre-1.6 PyTorch files (a bare pickle) are refused
/// with a message saying how to re-save them.</para>
/// </remarks>
/// <example>
/// <code>
/// using var model = ModelZoo.Create("efficientnet-b0", options);                 // 10 classes, grey input
/// var report = PyTorchWeights.Load(model, "efficientnet_b0_rwightman-7f5810bc.pth"); // torchvision's ImageNet weights
/// logger.LogInformation("{Report}", report);                                     // the head stays fresh, the stem is summed to grey
/// </code>
/// </example>
public static class PyTorchWeights
{
    /// <summary>Recognises the format of a weights file from its first bytes.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static WeightFileFormat DetectFormat(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Weights file '{path}' does not exist.", path);
        using var stream = File.OpenRead(path);
        Span<byte> head = stackalloc byte[9];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read >= 4 && head[0] == 0x50 && head[1] == 0x4B && head[2] == 0x03 && head[3] == 0x04)
            return WeightFileFormat.PyTorchPickle;
        if (read == 9 && head[8] == (byte)'{' && BinaryPrimitives.ReadUInt64LittleEndian(head) <= (ulong)Math.Max(0, stream.Length - 8))
            return WeightFileFormat.SafeTensors;
        return WeightFileFormat.TorchSharp;
    }

    /// <summary>
    /// Reads every tensor of a PyTorch pickle or safetensors file onto the CPU (the caller disposes them). TorchSharp's format
    /// holds no names without a model, so it is read only by <see cref="Load"/>.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="WeightFileFormatException">The file is not a PyTorch pickle or safetensors state dict, or is damaged.</exception>
    /// <exception cref="SafeTensorsFormatException">A safetensors file is malformed.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        var format = DetectFormat(path);
        return format switch
        {
            WeightFileFormat.PyTorchPickle => ReadPickle(path),
            WeightFileFormat.SafeTensors => SafeTensors.Read(path),
            _ => throw new WeightFileFormatException(path,
                "it is neither a PyTorch zip pickle (torch.save, PyTorch ≥ 1.6) nor safetensors. A file from an older PyTorch must be re-saved with torch.save(model.state_dict(), path)."),
        };
    }

    /// <summary>
    /// Loads a state dict into <paramref name="model"/>: from a PyTorch <c>.pth</c>/<c>.pt</c>, a <c>.safetensors</c> or a
    /// TorchSharp file. A <see cref="PreprocessedClassifier"/> is loaded through its inner network, so files of the bare
    /// network (torchvision's) and of the wrapped one (<c>model.</c> keys) both fit.
    /// </summary>
    /// <param name="model">The model (any module; for an <see cref="ImageClassifier"/> the head rules of <paramref name="options"/> apply).</param>
    /// <param name="path">The file.</param>
    /// <param name="options">How names, the head and the stem are fitted (<see cref="WeightLoadOptions.Default"/>).</param>
    /// <returns>What was loaded, kept and adapted.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="StateDictMismatchException">Names or shapes do not fit; the message lists them. The model is left unchanged.</exception>
    /// <exception cref="WeightFileFormatException">The file is in no known format, or is damaged.</exception>
    /// <exception cref="SafeTensorsFormatException">A safetensors file is malformed.</exception>
    public static WeightLoadReport Load(nn.Module model, string path, WeightLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= WeightLoadOptions.Default;
        var target = model;
        while (target is PreprocessedClassifier wrapper)
            target = wrapper.Inner;
        var format = DetectFormat(path);
        if (format == WeightFileFormat.TorchSharp)
            return LoadTorchSharp(target, path);

        var source = Read(path);
        try
        {
            return Fit(target, source, path, format, options);
        }
        finally
        {
            foreach (var tensor in source.Values)
                tensor.Dispose();
        }
    }

    /// <summary>
    /// Saves the state dict atomically, in the format the extension names: <c>.pth</c>/<c>.pt</c>/<c>.bin</c> as PyTorch's zip
    /// pickle (PyBridge's writer; <c>torch.load</c> reads it), <c>.safetensors</c> as safetensors.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file; its extension chooses the format.</param>
    /// <exception cref="ArgumentException">The extension is none of the above.</exception>
    public static void Save(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        switch (extension)
        {
            case ".pth" or ".pt" or ".bin":
                using (var scope = NewDisposeScope())
                {
                    var state = model.state_dict();
                    AtomicFile.Write(path, stream => PyTorchPickler.PickleStateDict(stream, state, leaveOpen: true));
                }
                break;
            case ".safetensors":
                ModelWeights.SaveSafeTensors(model, path);
                break;
            default:
                throw new ArgumentException($"Weights file '{path}': the extension must be .pth, .pt, .bin (PyTorch pickle) or .safetensors.", nameof(path));
        }
    }

    private static Dictionary<string, Tensor> ReadPickle(string path)
    {
        Hashtable table;
        try
        {
            using var stream = File.OpenRead(path);
            table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new WeightFileFormatException(path, $"PyTorch's pickle could not be read ({e.GetType().Name}: {e.Message}). " +
                "Save a state dict, not a whole model: torch.save(model.state_dict(), path).", e);
        }
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string key || entry.Value is not Tensor tensor)
            {
                foreach (var read in tensors.Values)
                    read.Dispose();
                throw new WeightFileFormatException(path, $"entry '{entry.Key}' is a {entry.Value?.GetType().Name ?? "null"}, not a tensor: the file is not a state dict.");
            }
            tensors[key] = tensor;
        }
        return tensors;
    }

    private static WeightLoadReport LoadTorchSharp(nn.Module target, string path)
    {
        try
        {
            target.load(path, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not FileNotFoundException)
        {
            throw new WeightFileFormatException(path,
                $"it is not a PyTorch zip pickle or safetensors, and TorchSharp's format does not fit the model either ({e.Message}).", e);
        }
        return new WeightLoadReport(path, WeightFileFormat.TorchSharp, target.state_dict().Keys.ToList(), [], [], [], []);
    }

    private static WeightLoadReport Fit(nn.Module target, Dictionary<string, Tensor> source, string path, WeightFileFormat format, WeightLoadOptions options)
    {
        var state = target.state_dict();
        var mapName = options.MapName ?? (key => TorchvisionNames.ResNet18(key));
        var mapped = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var owned = new List<Tensor>();
        var adapted = new List<string>();
        try
        {
            foreach (var (key, tensor) in source)
            {
                string? name = mapName(key);
                if (name is null)
                    continue;
                var value = tensor;
                if (options.AdaptInputChannels && state.TryGetValue(name, out var destination) && IsRgbToGrey(tensor, destination))
                {
                    value = FineTuning.SumInputChannels(tensor);
                    owned.Add(value);
                    adapted.Add(name);
                }
                if (!mapped.TryAdd(name, value))
                    throw new WeightFileFormatException(path, $"two keys map to '{name}' (one of them is '{key}').");
            }

            var keptHead = new List<string>();
            if (options.KeepMismatchedHead && target is ImageClassifier classifier)
            {
                foreach (string key in HeadKeys(classifier))
                {
                    if (mapped.TryGetValue(key, out var value) && !value.shape.SequenceEqual(state[key].shape))
                    {
                        mapped.Remove(key);
                        keptHead.Add(key);
                    }
                }
            }

            var missing = state.Keys.Where(k => !mapped.ContainsKey(k)).ToList();
            var unexpected = mapped.Keys.Where(k => !state.ContainsKey(k)).ToList();
            var fatalMissing = missing.Where(k => !keptHead.Contains(k) && !k.EndsWith(StateDicts.NumBatchesTrackedSuffix, StringComparison.Ordinal)).ToList();
            if (options.Strict && (fatalMissing.Count > 0 || unexpected.Count > 0))
            {
                var mismatched = mapped.Where(kv => state.ContainsKey(kv.Key) && !state[kv.Key].shape.SequenceEqual(kv.Value.shape))
                    .Select(kv => new ShapeMismatch(kv.Key, state[kv.Key].shape, kv.Value.shape)).ToList();
                throw new StateDictMismatchException(path, fatalMissing, unexpected, mismatched);
            }
            var result = StateDicts.Load(target, mapped, strict: false, sourceName: path);
            return new WeightLoadReport(path, format, result.Loaded, missing, unexpected, keptHead, adapted);
        }
        finally
        {
            foreach (var tensor in owned)
                tensor.Dispose();
        }
    }

    // A one-channel model's convolution (out × 1 × k × k) and the same convolution trained on RGB (out × 3 × k × k).
    private static bool IsRgbToGrey(Tensor file, Tensor model) =>
        file.dim() == 4 && model.dim() == 4 && file.shape[1] == 3 && model.shape[1] == 1 &&
        file.shape[0] == model.shape[0] && file.shape[2] == model.shape[2] && file.shape[3] == model.shape[3];

    // The state-dict keys of the classifier's weight and bias, found by identity among the model's parameters.
    private static IEnumerable<string> HeadKeys(ImageClassifier model)
    {
        var head = new HashSet<IntPtr>(model.Classifier.parameters().Select(p => p.Handle));
        return model.named_parameters().Where(p => head.Contains(p.parameter.Handle)).Select(p => p.name).ToList();
    }
}
