using FashionVision.Onnx.Protobuf;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>How closely an exported model's ONNX Runtime output matches TorchSharp on the same batch.</summary>
/// <param name="MaxAbsDifference">The largest absolute difference between any two corresponding logits.</param>
/// <param name="BatchSize">The number of images compared.</param>
/// <param name="MatchingPredictions">How many images get the same arg-max class from both.</param>
public sealed record OnnxVerificationResult(double MaxAbsDifference, int BatchSize, int MatchingPredictions)
{
    /// <summary>The fraction of images with the same predicted class.</summary>
    public double PredictionAgreement => BatchSize == 0 ? 1 : (double)MatchingPredictions / BatchSize;
}

/// <summary>Runs an exported model in ONNX Runtime and the TorchSharp original in eval mode on the same batch and compares.</summary>
public static class OnnxVerifier
{
    /// <summary>Compares <paramref name="model"/> (eval mode) with the ONNX model at <paramref name="onnxPath"/>.</summary>
    /// <param name="model">The TorchSharp model the file was exported from.</param>
    /// <param name="onnxPath">The exported file.</param>
    /// <param name="batch">Model input N×C×H×W (already normalized, as the model sees it).</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="OnnxFormatException">The file is not a model ONNX Runtime can run.</exception>
    public static OnnxVerificationResult Verify(nn.Module<Tensor, Tensor> model, string onnxPath, Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.dim() != 4)
            throw new ArgumentException($"The batch must be N×C×H×W, not [{string.Join(", ", batch.shape)}].", nameof(batch));

        using var scope = NewDisposeScope();
        var input = batch.detach().cpu().to(float32).contiguous();
        var onnxLogits = tensor(Run(onnxPath, input.data<float>().ToArray(), input.shape, out var outputShape)).reshape(outputShape);

        var wasTraining = model.training;
        model.eval();
        Tensor torchLogits;
        try
        {
            using var noGrad = no_grad();
            torchLogits = model.call(batch).detach().cpu().to(float32);
        }
        finally
        {
            if (wasTraining) model.train();
        }
        if (!torchLogits.shape.SequenceEqual(onnxLogits.shape))
            throw new InvalidOperationException(
                $"ONNX Runtime returns shape [{string.Join(", ", onnxLogits.shape)}] where TorchSharp returns [{string.Join(", ", torchLogits.shape)}].");

        var difference = (torchLogits - onnxLogits).abs().max().item<float>();
        var matching = torchLogits.argmax(1).eq(onnxLogits.argmax(1)).sum().item<long>();
        return new OnnxVerificationResult(difference, (int)input.shape[0], (int)matching);
    }

    /// <summary>Runs the ONNX model at <paramref name="onnxPath"/> on one input and returns its first output, flattened.</summary>
    /// <param name="onnxPath">The model file.</param>
    /// <param name="input">The input values, row-major.</param>
    /// <param name="shape">The input shape.</param>
    /// <param name="outputShape">The output's shape.</param>
    public static float[] Run(string onnxPath, float[] input, long[] shape, out long[] outputShape)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(shape);
        var bytes = OnnxModelFile.ReadBytes(onnxPath);
        OnnxModelFile.Parse(onnxPath, bytes);
        using var session = OnnxModelFile.OpenSession(onnxPath, bytes);
        using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [inputValue], [session.OutputNames[0]]);
        var output = outputs[0];
        outputShape = output.GetTensorTypeAndShape().Shape;
        return output.GetTensorDataAsSpan<float>().ToArray();
    }
}
