using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>Puts a model into a compute precision, resolving <see cref="ComputePrecision.Auto"/> for the device.</summary>
internal static class PrecisionSetting
{
    /// <summary>
    /// Sets <paramref name="model"/>'s precision (Auto resolved by <see cref="Native.DeviceProfile.ChoosePrecision(ImageClassifier, Device)"/>)
    /// and returns the precision it had, the one applied, and, for Auto, why.
    /// </summary>
    /// <exception cref="ArgumentException">bfloat16 for a model that computes in float32 only.</exception>
    public static (ComputePrecision Previous, ComputePrecision Applied, string? Reason) Apply(nn.Module<Tensor, Tensor> model, ComputePrecision precision, Device device)
    {
        string? reason = null;
        if (precision == ComputePrecision.Auto)
        {
            var choice = model is ImageClassifier c
                ? Native.DeviceProfile.Current.ChoosePrecision(c, device)
                : new Native.PrecisionChoice(ComputePrecision.Float32, $"{model.GetType().Name} is not an ImageClassifier, which computes in float32 only.");
            precision = choice.Precision;
            reason = $"Auto chose {choice.Name}: {choice.Reason}";
        }
        if (model is ImageClassifier classifier)
        {
            var previous = classifier.Precision;
            if (precision == ComputePrecision.BFloat16 && !classifier.SupportsBFloat16)
                throw new ArgumentException($"TrainerOptions.Precision is BFloat16 but {model.GetType().Name} computes in float32 only.", nameof(TrainerOptions.Precision));
            classifier.Precision = precision;
            return (previous, precision, reason);
        }
        if (precision != ComputePrecision.Float32)
            throw new ArgumentException($"TrainerOptions.Precision is {precision} but the model is not an ImageClassifier that supports it.", nameof(TrainerOptions.Precision));
        return (ComputePrecision.Float32, precision, reason);
    }
}
