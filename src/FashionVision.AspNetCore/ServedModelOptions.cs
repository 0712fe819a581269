using FashionVision.Imaging;

namespace FashionVision.AspNetCore;

/// <summary>How an uploaded image is turned into model input (see <see cref="ImageDecodeOptions"/>).</summary>
public enum ImageStyle
{
    /// <summary>Fashion-MNIST: the object's bounding box fills the image (<see cref="ImageDecodeOptions.FashionMnist"/>).</summary>
    FashionMnist,

    /// <summary>MNIST: a 20-pixel digit centred by its centre of mass (<see cref="ImageDecodeOptions.Mnist"/>).</summary>
    Mnist,

    /// <summary>Only decoding, grayscale and resizing (<see cref="ImageDecodeOptions.Raw"/>).</summary>
    Raw,
}

/// <summary>One served model.</summary>
public sealed record ServedModelOptions
{
    /// <summary>The ONNX model (FP32 from the exporter or INT8 from the quantizer) that answers <c>/predict</c>.</summary>
    public string OnnxPath { get; init; } = "";

    /// <summary>
    /// The checkpoint the ONNX model was exported from, for <c>/gradcam</c> (which needs gradients, so it runs the TorchSharp
    /// model). Null: no Grad-CAM for this model.
    /// </summary>
    public string? CheckpointPath { get; init; }

    /// <summary>How uploads are fitted into the model's input.</summary>
    public ImageStyle Style { get; init; } = ImageStyle.FashionMnist;

    /// <summary>ONNX Runtime threads inside one operator (0: one per core).</summary>
    public int IntraOpThreads { get; init; }

    internal void Validate(string path)
    {
        if (string.IsNullOrWhiteSpace(OnnxPath))
            throw new ArgumentException($"{path}:{nameof(OnnxPath)} is not set.", nameof(OnnxPath));
        if (!Enum.IsDefined(Style))
            throw new ArgumentOutOfRangeException(nameof(Style), Style, $"{path}:{nameof(Style)} is not a known style.");
        if (IntraOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, $"{path}:{nameof(IntraOpThreads)} cannot be negative.");
    }

    internal ImageDecodeOptions DecodeOptions => Style switch
    {
        ImageStyle.Mnist => ImageDecodeOptions.Mnist,
        ImageStyle.Raw => ImageDecodeOptions.Raw,
        _ => ImageDecodeOptions.FashionMnist,
    };
}
