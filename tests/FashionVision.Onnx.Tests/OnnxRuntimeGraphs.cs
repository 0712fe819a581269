using FashionVision.Onnx.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace FashionVision.Onnx.Tests;

/// <summary>What ONNX Runtime makes of a model file: its optimized graph, and its output under a chosen optimization level.</summary>
internal static class OnnxRuntimeGraphs
{
    /// <summary>The operator types of the graph ONNX Runtime runs after its (extended) graph optimizations, e.g. the fused QLinearConv.</summary>
    public static string[] OptimizedOps(string path, TempDirectory dir)
    {
        var optimizedPath = dir.File(Path.GetFileNameWithoutExtension(path) + ".optimized.onnx");
        using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED, OptimizedModelFilePath = optimizedPath })
        using (new InferenceSession(path, options)) { }
        return ModelProto.Parser.ParseFrom(File.ReadAllBytes(optimizedPath)).Graph.Node.Select(n => n.OpType).ToArray();
    }

    /// <summary>Runs the model on an N×C×H×W batch (already normalized) and returns its logits.</summary>
    public static Tensor Run(string path, Tensor batch, GraphOptimizationLevel level)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = level };
        using var session = new InferenceSession(path, options);
        var input = batch.contiguous().data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(input, batch.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }
}
