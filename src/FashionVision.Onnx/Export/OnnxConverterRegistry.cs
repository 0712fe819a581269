using System.Collections.Concurrent;
using FashionVision.Onnx.Converters;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// Maps module types to their <see cref="IOnnxModuleConverter"/>. A module is converted by the converter registered for its
/// exact type, else for its nearest base type. <see cref="Default"/> knows TorchSharp's layers and the FashionVision zoo;
/// <see cref="CreateDefault"/> gives a copy to extend without touching the shared one.
/// </summary>
public sealed class OnnxConverterRegistry
{
    private readonly ConcurrentDictionary<Type, IOnnxModuleConverter> _converters = new();

    /// <summary>The shared registry that <see cref="OnnxExporter.Export(nn.Module{TorchSharp.torch.Tensor, TorchSharp.torch.Tensor}, string, OnnxExportOptions?)"/> uses. Converters registered here apply to every later export.</summary>
    public static OnnxConverterRegistry Default { get; } = CreateDefault();

    /// <summary>Creates an empty registry.</summary>
    public OnnxConverterRegistry() { }

    /// <summary>Creates a registry holding every built-in converter (TorchSharp layers and the model zoo).</summary>
    public static OnnxConverterRegistry CreateDefault()
    {
        var registry = new OnnxConverterRegistry();
        BuiltInConverters.RegisterAll(registry);
        return registry;
    }

    /// <summary>The module types that have a converter.</summary>
    public IReadOnlyCollection<Type> ModuleTypes => _converters.Keys.ToArray();

    /// <summary>Registers (or replaces) the converter for its <see cref="IOnnxModuleConverter.ModuleType"/>.</summary>
    public OnnxConverterRegistry Register(IOnnxModuleConverter converter)
    {
        ArgumentNullException.ThrowIfNull(converter);
        if (converter.ModuleType is null || !typeof(nn.Module).IsAssignableFrom(converter.ModuleType))
            throw new ArgumentException($"The converter's ModuleType must be a TorchSharp module type, not '{converter.ModuleType}'.", nameof(converter));
        _converters[converter.ModuleType] = converter;
        return this;
    }

    /// <summary>Registers (or replaces) a converter for <typeparamref name="TModule"/> written as a delegate.</summary>
    public OnnxConverterRegistry Register<TModule>(Func<OnnxExportContext, TModule, OnnxValue, OnnxValue> convert) where TModule : nn.Module
    {
        ArgumentNullException.ThrowIfNull(convert);
        return Register(new DelegateOnnxModuleConverter<TModule>(convert));
    }

    /// <summary>Finds the converter for <paramref name="moduleType"/> (its own, else its nearest base type's).</summary>
    public bool TryGetConverter(Type moduleType, out IOnnxModuleConverter converter)
    {
        ArgumentNullException.ThrowIfNull(moduleType);
        for (var type = moduleType; type is not null && type != typeof(object); type = type.BaseType)
        {
            if (_converters.TryGetValue(type, out converter!))
                return true;
            if (type.IsGenericType && _converters.TryGetValue(type.GetGenericTypeDefinition(), out converter!))
                return true;
        }
        converter = null!;
        return false;
    }
}
