using System.Globalization;
using System.Text.Json;
using FashionVision.IO;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// Writes a TorchSharp classifier as an ONNX model (opset 17 by default) with a dynamic batch dimension, named input and
/// output, and the class names and preprocessing in its metadata.
/// </summary>
/// <remarks>
/// TorchSharp has no tracer, so the exporter walks the module tree in eval mode and converts each module by its type with an
/// <see cref="IOnnxModuleConverter"/> from an <see cref="OnnxConverterRegistry"/>: TorchSharp's layers and every FashionVision
/// zoo model are built in; register converters for your own blocks. Each converter's result is checked against the module's
/// own forward pass on a sample input. Check the written file end to end with <see cref="OnnxVerifier"/>.
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX IR version written (IR 8 goes with opsets 17 and 18; later opsets raise it as the spec requires).</summary>
    internal static long IrVersionFor(int opset) => opset switch { <= 18 => 8, 19 or 20 => 9, _ => 10 };

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> with the default converters.</summary>
    /// <param name="model">The classifier (it is put in eval mode for the export and returned to its previous mode after).</param>
    /// <param name="path">The file to write (written to a temporary file and renamed).</param>
    /// <param name="options">Input shape, opset, names, metadata. Null: the defaults (1×28×28, opset 17).</param>
    /// <exception cref="NotSupportedException">A module in the tree has no converter; the message names its path and type.</exception>
    public static void Export(nn.Module<Tensor, Tensor> model, string path, OnnxExportOptions? options = null) =>
        Export(model, path, options, OnnxConverterRegistry.Default);

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> with the converters of <paramref name="registry"/>.</summary>
    public static void Export(nn.Module<Tensor, Tensor> model, string path, OnnxExportOptions? options, OnnxConverterRegistry registry)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ExportToBytes(model, options, registry);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Exports <paramref name="model"/> to an in-memory ONNX model (what <see cref="Export(nn.Module{Tensor, Tensor}, string, OnnxExportOptions?)"/> writes).</summary>
    public static byte[] ExportToBytes(nn.Module<Tensor, Tensor> model, OnnxExportOptions? options = null, OnnxConverterRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OnnxExportOptions();
        options.Validate();
        registry ??= OnnxConverterRegistry.Default;
        return BuildModel(model, options, registry).ToByteArray();
    }

    internal static ModelProto BuildModel(nn.Module<Tensor, Tensor> model, OnnxExportOptions options, OnnxConverterRegistry registry)
    {
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var device = model.parameters().Select(p => p.device).FirstOrDefault() ?? CPU;
            var generator = new Generator(0);
            var sample = randn([1, options.Channels, options.Height, options.Width], generator: generator).to(device);

            var graph = new GraphProto { Name = options.GraphName ?? model.GetName() };
            var context = new OnnxExportContext(registry, options, graph);
            context.ReserveName(options.InputName);
            context.ReserveName(options.OutputName);

            var output = context.Convert(model, new OnnxValue(options.InputName, sample), "");
            if (output.Shape.Length != 2)
                throw new NotSupportedException(
                    $"The model's output has shape [{string.Join(", ", output.Shape)}]; a classifier must return logits of shape N × classes.");
            NameOutput(graph, output.Name, options);

            graph.Input.Add(ValueInfo(options.InputName, "N", options.Channels, options.Height, options.Width));
            graph.Output.Add(ValueInfo(options.OutputName, "N", output.Shape[1]));

            var proto = new ModelProto
            {
                IrVersion = IrVersionFor(options.Opset),
                ProducerName = options.ProducerName,
                ProducerVersion = options.ProducerVersion,
                Domain = "ai.fashionvision",
                ModelVersion = 1,
                Graph = graph,
            };
            if (options.DocString is not null)
                proto.DocString = options.DocString;
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
            foreach (var (key, value) in Metadata(options, output.Shape[1]))
                proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
            return proto;
        }
        finally
        {
            if (wasTraining)
                model.train();
        }
    }

    private static void NameOutput(GraphProto graph, string valueName, OnnxExportOptions options)
    {
        var producer = graph.Node.LastOrDefault(n => n.Output.Contains(valueName));
        if (producer is null)
        {
            // The model is the identity on its input (or returns a constant): an Identity node gives the output its name.
            var identity = new NodeProto { OpType = "Identity", Name = "output_identity" };
            identity.Input.Add(valueName);
            identity.Output.Add(options.OutputName);
            graph.Node.Add(identity);
            return;
        }
        foreach (var node in graph.Node)
        {
            for (var i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == valueName) node.Input[i] = options.OutputName;
            for (var i = 0; i < node.Output.Count; i++)
                if (node.Output[i] == valueName) node.Output[i] = options.OutputName;
        }
    }

    private static IEnumerable<(string Key, string Value)> Metadata(OnnxExportOptions options, long classes)
    {
        var names = options.ClassNames.Count > 0
            ? options.ClassNames
            : Enumerable.Range(0, (int)classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (names.Count != classes)
            throw new ArgumentException($"{names.Count} class names were given for a model with {classes} outputs.", nameof(options));
        yield return (OnnxMetadataKeys.ClassNames, JsonSerializer.Serialize(names));
        yield return (OnnxMetadataKeys.InputShape, JsonSerializer.Serialize(new[] { options.Channels, options.Height, options.Width }));
        if (options.Mean is not null && options.Std is not null)
        {
            yield return (OnnxMetadataKeys.Mean, JsonSerializer.Serialize(options.Mean));
            yield return (OnnxMetadataKeys.Std, JsonSerializer.Serialize(options.Std));
        }
    }

    internal static ValueInfoProto ValueInfo(string name, string batchParameter, params long[] dimsAfterBatch)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batchParameter });
        foreach (var dim in dimsAfterBatch)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = dim });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
