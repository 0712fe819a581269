namespace FashionVision.Onnx.Converters;

/// <summary>Every converter that ships with FashionVision.Onnx.</summary>
internal static class BuiltInConverters
{
    public static void RegisterAll(OnnxConverterRegistry registry)
    {
        LayerConverters.RegisterAll(registry);
        ZooConverters.RegisterAll(registry);
        InferenceConverters.RegisterAll(registry);
    }
}
