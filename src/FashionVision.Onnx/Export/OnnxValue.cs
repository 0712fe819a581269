using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// A value flowing through the graph being exported: its ONNX name, and a sample of it computed by TorchSharp for a batch
/// of one (which gives converters the shape, and lets the exporter check that every converter reproduces the module).
/// </summary>
/// <param name="Name">The ONNX value name.</param>
/// <param name="Sample">The value for the export's sample input (batch size 1).</param>
public sealed record OnnxValue(string Name, Tensor Sample)
{
    /// <summary>The sample's shape; dimension 0 is the batch, which is dynamic in the exported graph.</summary>
    public long[] Shape => Sample.shape;
}
