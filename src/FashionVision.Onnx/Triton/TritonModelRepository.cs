using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FashionVision.IO;
using FashionVision.Onnx.Protobuf;

namespace FashionVision.Onnx;

/// <summary>The files <see cref="TritonModelRepository.Write"/> wrote.</summary>
/// <param name="Name">The model's name in the repository.</param>
/// <param name="ModelDirectory">The model's folder: <c>repository/name</c>.</param>
/// <param name="ModelPath">The ONNX file: <c>repository/name/version/model.onnx</c>.</param>
/// <param name="ConfigPath">The model configuration: <c>repository/name/config.pbtxt</c>.</param>
/// <param name="LabelsPath">The class names, one a line, in class order: <c>repository/name/labels.txt</c>.</param>
public sealed record TritonModelLayout(string Name, string ModelDirectory, string ModelPath, string ConfigPath, string LabelsPath);

/// <summary>
/// Writes an exported model into an NVIDIA Triton Inference Server model repository, so that serving scales out on an engine
/// built for it (dynamic batching, many instances, GPUs, metrics) instead of on code of ours:
/// <c>repository/name/config.pbtxt</c>, <c>repository/name/labels.txt</c> and <c>repository/name/version/model.onnx</c>.
/// </summary>
/// <remarks>
/// The configuration names the ONNX Runtime backend, the input and output exactly as the ONNX graph declares them (names,
/// FP32, dims without the batch dimension), <c>max_batch_size</c>, dynamic batching, the instance group, the labels file for
/// Triton's classification extension, and FashionVision's metadata (class names, normalization mean and standard
/// deviation) as string parameters. Triton does not normalize: clients send <c>(pixel − mean) / std</c> with pixels in
/// [0, 1], which is what <see cref="OnnxPredictor"/> does for them in process.
/// </remarks>
public static partial class TritonModelRepository
{
    /// <summary>Copies the ONNX model at <paramref name="onnxPath"/> into the repository at <paramref name="repositoryDirectory"/> and writes its configuration.</summary>
    /// <param name="onnxPath">A model written by <see cref="OnnxExporter"/> or <see cref="OnnxQuantizer"/> (one float input N×C×H×W with a dynamic N, one float output N×classes).</param>
    /// <param name="repositoryDirectory">The repository's root folder (created if needed; other models in it are left alone).</param>
    /// <param name="options">Name, version, batching and instances; null for the defaults.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="FileNotFoundException">The ONNX file does not exist.</exception>
    /// <exception cref="OnnxFormatException">The file is not an ONNX classifier with a dynamic batch dimension.</exception>
    public static TritonModelLayout Write(string onnxPath, string repositoryDirectory, TritonModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(repositoryDirectory);
        options ??= new TritonModelOptions();
        options.Validate();
        var bytes = OnnxModelFile.ReadBytes(onnxPath);
        var model = OnnxModelFile.Parse(onnxPath, bytes);
        var name = options.Name ?? model.Graph.Name;
        if (!IsValidName(name))
            throw new ArgumentException($"The ONNX graph's name '{name}' cannot be a Triton model name; set {nameof(TritonModelOptions)}.{nameof(TritonModelOptions.Name)}.", nameof(options));

        var input = Single(onnxPath, model.Graph.Input.Where(i => model.Graph.Initializer.All(t => t.Name != i.Name)).ToList(), "input", 4);
        var output = Single(onnxPath, model.Graph.Output, "output", 2);
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        var classes = output.Dims[0];
        var labels = metadata.TryGetValue(OnnxMetadataKeys.ClassNames, out var json)
            ? System.Text.Json.JsonSerializer.Deserialize<string[]>(json) ?? []
            : [];
        if (labels.Length != classes)
            labels = Enumerable.Range(0, (int)classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

        var directory = Path.Combine(Path.GetFullPath(repositoryDirectory), name);
        var layout = new TritonModelLayout(name, directory,
            Path.Combine(directory, options.Version.ToString(CultureInfo.InvariantCulture), "model.onnx"),
            Path.Combine(directory, "config.pbtxt"),
            Path.Combine(directory, "labels.txt"));
        AtomicFile.WriteAllBytes(layout.ModelPath, bytes);
        AtomicFile.WriteAllText(layout.LabelsPath, string.Join('\n', labels) + "\n");
        AtomicFile.WriteAllText(layout.ConfigPath, Config(name, input, output, metadata, options));
        return layout;
    }

    /// <summary>True when <paramref name="name"/> can name a model in a repository (a folder name of letters, digits, '.', '-', '_').</summary>
    public static bool IsValidName(string? name) => !string.IsNullOrEmpty(name) && name is not ("." or "..") && NamePattern().IsMatch(name);

    private sealed record Tensor(string Name, long[] Dims);

    /// <summary>The graph's one float tensor of the given rank, with a dynamic first dimension; returns its other dims.</summary>
    private static Tensor Single(string path, IList<ValueInfoProto> values, string what, int rank)
    {
        if (values.Count != 1)
            throw new OnnxFormatException(path, $"an image classifier has one {what}; this model has {values.Count}.");
        var value = values[0];
        var type = value.Type?.TensorType;
        var dims = type?.Shape?.Dim;
        if (type is null || type.ElemType != (int)TensorProto.Types.DataType.Float || dims is null || dims.Count != rank)
            throw new OnnxFormatException(path, $"its {what} '{value.Name}' is not a float tensor of rank {rank}.");
        if (dims[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)
            throw new OnnxFormatException(path, $"its {what} '{value.Name}' has a fixed batch size {dims[0].DimValue}; Triton's batching needs a dynamic one (export with OnnxExporter).");
        if (dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || d.DimValue <= 0))
            throw new OnnxFormatException(path, $"its {what} '{value.Name}' must have fixed sizes after the batch dimension.");
        return new Tensor(value.Name, dims.Skip(1).Select(d => d.DimValue).ToArray());
    }

    private static string Config(string name, Tensor input, Tensor output, IReadOnlyDictionary<string, string> metadata, TritonModelOptions options)
    {
        var text = new StringBuilder();
        text.AppendLine("# Written by FashionVision (TritonModelRepository). Clients send FP32 (pixel - mean) / std, pixels in [0, 1];");
        text.AppendLine("# mean and std are in the parameters below.");
        text.AppendLine($"name: {Quote(name)}");
        text.AppendLine("backend: \"onnxruntime\"");
        text.AppendLine($"max_batch_size: {options.MaxBatchSize}");
        AppendTensor(text, "input", input, "format: FORMAT_NCHW");
        AppendTensor(text, "output", output, "label_filename: \"labels.txt\"");
        text.AppendLine("dynamic_batching {");
        if (options.PreferredBatchSizes.Count > 0)
            text.AppendLine($"  preferred_batch_size: [ {string.Join(", ", options.PreferredBatchSizes)} ]");
        text.AppendLine($"  max_queue_delay_microseconds: {options.MaxQueueDelayMicroseconds}");
        text.AppendLine("}");
        text.AppendLine("instance_group [");
        text.AppendLine("  {");
        text.AppendLine($"    count: {options.InstanceCount}");
        text.AppendLine($"    kind: {(options.InstanceKind == TritonInstanceKind.Gpu ? "KIND_GPU" : "KIND_CPU")}");
        text.AppendLine("  }");
        text.AppendLine("]");
        foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!key.StartsWith("fashionvision.", StringComparison.Ordinal))
                continue;
            text.AppendLine("parameters {");
            text.AppendLine($"  key: {Quote(key)}");
            text.AppendLine($"  value: {{ string_value: {Quote(value)} }}");
            text.AppendLine("}");
        }
        return text.ToString();
    }

    /// <summary>An <c>input</c> or <c>output</c> block: name, FP32, dims without the batch dimension, one extra field.</summary>
    private static void AppendTensor(StringBuilder text, string block, Tensor tensor, string extra)
    {
        text.AppendLine($"{block} [");
        text.AppendLine("  {");
        text.AppendLine($"    name: {Quote(tensor.Name)}");
        text.AppendLine("    data_type: TYPE_FP32");
        text.AppendLine($"    dims: [ {string.Join(", ", tensor.Dims.Select(d => d.ToString(CultureInfo.InvariantCulture)))} ]");
        text.AppendLine($"    {extra}");
        text.AppendLine("  }");
        text.AppendLine("]");
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();
}
