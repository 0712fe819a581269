using FashionVision.Onnx.Protobuf;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace FashionVision.Onnx;

/// <summary>Reads ONNX files and opens ONNX Runtime sessions, turning every kind of bad file into a clear exception.</summary>
internal static class OnnxModelFile
{
    /// <summary>Reads and parses <paramref name="path"/> as an ONNX model.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxFormatException">The file is empty, is not an ONNX model, or has no graph.</exception>
    public static ModelProto Read(string path)
    {
        var bytes = ReadBytes(path);
        return Parse(path, bytes);
    }

    public static byte[] ReadBytes(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"The ONNX model '{path}' does not exist.", path);
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0)
            throw new OnnxFormatException(path, "the file is empty.");
        return bytes;
    }

    public static ModelProto Parse(string path, byte[] bytes)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException(path, $"the bytes are not an ONNX ModelProto ({e.Message}).", e);
        }
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.Graph.Input.Count == 0 || model.Graph.Output.Count == 0)
            throw new OnnxFormatException(path, "it has no graph with nodes, inputs and outputs.");
        if (model.OpsetImport.Count == 0)
            throw new OnnxFormatException(path, "it imports no operator set.");
        return model;
    }

    /// <summary>Opens an ONNX Runtime session on a model that <see cref="Read"/> accepted.</summary>
    public static InferenceSession OpenSession(string path, byte[] bytes, SessionOptions? options = null)
    {
        try
        {
            return options is null ? new InferenceSession(bytes) : new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxFormatException(path, $"ONNX Runtime cannot load it: {e.Message}", e);
        }
    }
}
