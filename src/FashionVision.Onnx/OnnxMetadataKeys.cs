namespace FashionVision.Onnx;

/// <summary>
/// The <c>metadata_props</c> keys FashionVision writes into an exported model. ONNX Runtime returns them in
/// <c>ModelMetadata.CustomMetadataMap</c>; list values are JSON arrays.
/// </summary>
public static class OnnxMetadataKeys
{
    /// <summary>The class names in class-index order, a JSON array of strings.</summary>
    public const string ClassNames = "fashionvision.class_names";

    /// <summary>The per-channel normalization mean applied to [0, 1] pixels before the model, a JSON array of numbers.</summary>
    public const string Mean = "fashionvision.normalize_mean";

    /// <summary>The per-channel normalization standard deviation, a JSON array of numbers.</summary>
    public const string Std = "fashionvision.normalize_std";

    /// <summary>The input shape channels × height × width, a JSON array of three integers.</summary>
    public const string InputShape = "fashionvision.input_shape";

    /// <summary>Set to <c>"qdq-int8"</c> in models written by <see cref="OnnxQuantizer"/>.</summary>
    public const string Quantization = "fashionvision.quantization";
}
