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

    /// <summary>In quantized models: the CPU class the weights were quantized for (<c>vnni</c>, <c>avx2</c> or <c>portable</c>; see <see cref="Int8Target"/>).</summary>
    public const string Int8Target = "fashionvision.int8_target";

    /// <summary>In quantized models: the largest int8 weight magnitude used (127 full range, 63 for 7-bit weights).</summary>
    public const string Int8WeightMax = "fashionvision.int8_weight_max";

    /// <summary>In quantized models: why that target was chosen (one sentence).</summary>
    public const string Int8TargetReason = "fashionvision.int8_target_reason";
}
