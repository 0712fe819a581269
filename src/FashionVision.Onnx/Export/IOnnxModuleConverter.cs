using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Onnx;

/// <summary>
/// Turns one TorchSharp module type into ONNX nodes. Register one in an <see cref="OnnxConverterRegistry"/> for each module
/// type of your own (a block whose <c>forward</c> is code rather than a <c>Sequential</c>), so that models using it export.
/// </summary>
/// <remarks>
/// A converter emits nodes through the <see cref="OnnxExportContext"/>: <see cref="OnnxExportContext.Convert"/> for child
/// modules (which dispatches to their own converters), the operator helpers (<see cref="OnnxExportContext.Add"/>,
/// <see cref="OnnxExportContext.Mul"/>, ...) for the arithmetic in between, or <see cref="OnnxExportContext.AddNode"/>
/// for any other operator. Every value carries a TorchSharp sample, so the exporter can check each converter against the
/// module's own forward pass.
/// </remarks>
public interface IOnnxModuleConverter
{
    /// <summary>The module type this converter handles (subclasses too, unless they have a converter of their own).</summary>
    Type ModuleType { get; }

    /// <summary>Emits the nodes of <paramref name="module"/> applied to <paramref name="input"/>.</summary>
    /// <param name="context">The graph being built.</param>
    /// <param name="module">The module, in eval mode.</param>
    /// <param name="input">The module's input value.</param>
    /// <returns>The module's output value.</returns>
    OnnxValue Convert(OnnxExportContext context, nn.Module module, OnnxValue input);
}

/// <summary>A typed base for <see cref="IOnnxModuleConverter"/>.</summary>
/// <typeparam name="TModule">The module type this converter handles.</typeparam>
public abstract class OnnxModuleConverter<TModule> : IOnnxModuleConverter where TModule : nn.Module
{
    /// <inheritdoc />
    public Type ModuleType => typeof(TModule);

    /// <inheritdoc />
    public OnnxValue Convert(OnnxExportContext context, nn.Module module, OnnxValue input) =>
        Convert(context, (TModule)module, input);

    /// <summary>Emits the nodes of <paramref name="module"/> applied to <paramref name="input"/>.</summary>
    protected abstract OnnxValue Convert(OnnxExportContext context, TModule module, OnnxValue input);
}

/// <summary>A converter made from a delegate (see <see cref="OnnxConverterRegistry.Register{TModule}(Func{OnnxExportContext, TModule, OnnxValue, OnnxValue})"/>).</summary>
internal sealed class DelegateOnnxModuleConverter<TModule>(Func<OnnxExportContext, TModule, OnnxValue, OnnxValue> convert)
    : OnnxModuleConverter<TModule> where TModule : nn.Module
{
    protected override OnnxValue Convert(OnnxExportContext context, TModule module, OnnxValue input) =>
        convert(context, module, input);
}
