using FashionVision.Data;
using FashionVision.Models;
using FashionVision.Training;
using FashionVision.Visualization;
using static TorchSharp.torch;

namespace FashionVision.AspNetCore;

/// <summary>
/// Grad-CAM for a served model: the TorchSharp model rebuilt from the checkpoint the ONNX file was exported from (Grad-CAM needs
/// gradients, which ONNX Runtime does not give), one image at a time (the explainer switches the model's mode, so calls are
/// serialised).
/// </summary>
internal sealed class GradCamExplainer : IDisposable
{
    private readonly ImageClassifier _model;
    private readonly GradCam _gradCam;
    private readonly ChannelStatistics? _normalization;
    private readonly (int Channels, int Height, int Width) _inputShape;
    private readonly Lock _gate = new();

    public GradCamExplainer(string checkpointPath, IReadOnlyList<string> classNames, (int Channels, int Height, int Width) inputShape)
    {
        var checkpoint = Checkpoint.Load(checkpointPath);
        var manifest = checkpoint.Manifest;
        if (!manifest.ClassNames.SequenceEqual(classNames))
            throw new ArgumentException($"The checkpoint '{checkpointPath}' has the classes [{string.Join(", ", manifest.ClassNames)}], not the ONNX model's [{string.Join(", ", classNames)}]; was the model exported from it?", nameof(checkpointPath));
        if (!manifest.InputShape.SequenceEqual([inputShape.Channels, inputShape.Height, inputShape.Width]))
            throw new ArgumentException($"The checkpoint '{checkpointPath}' takes {string.Join("×", manifest.InputShape)} images, not the ONNX model's {inputShape.Channels}×{inputShape.Height}×{inputShape.Width}.", nameof(checkpointPath));
        _model = checkpoint.CreateZooModel();
        _gradCam = new GradCam(_model);
        _normalization = manifest.Normalization;
        _inputShape = inputShape;
    }

    /// <summary>Explains the predicted class of one image (C×H×W in [0, 1]); returns the overlay as a PNG and the explained class.</summary>
    public (byte[] Png, int ClassIndex) Explain(float[] pixels)
    {
        var (channels, height, width) = _inputShape;
        lock (_gate)
        {
            using var scope = NewDisposeScope();
            var image = tensor(pixels, [1, channels, height, width]);
            var input = image;
            if (_normalization is { } n)
                input = (image - tensor(n.Mean, [1, channels, 1, 1])) / tensor(n.Std, [1, channels, 1, 1]);
            using var result = _gradCam.Explain(input);
            var overlay = GradCamOverlay.Blend(image, result.Heatmaps);
            return (TensorImages.EncodePng(overlay[0]), (int)result.TargetClasses[0].item<long>());
        }
    }

    public void Dispose() => _model.Dispose();
}
