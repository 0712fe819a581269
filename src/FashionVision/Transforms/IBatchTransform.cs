using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Transforms;

/// <summary>
/// An augmentation or preprocessing step over a whole batch on its device.
/// </summary>
/// <remarks>
/// <para>Images are float tensors N×C×H×W; targets are class indices (int64, N) or soft targets (float, N×K) once a
/// CutMix or Mixup has run. Random parameters are drawn per sample from the generator passed to <see cref="Apply"/>, so the same seed
/// gives the same batch.</para>
/// <para>Implementations do not dispose their inputs; call them inside a <c>torch.NewDisposeScope()</c>.</para>
/// </remarks>
public interface IBatchTransform
{
    /// <summary>Applies the transform to a batch.</summary>
    /// <param name="images">Float images N×C×H×W.</param>
    /// <param name="targets">Class indices (int64, N) or soft targets (float, N×K).</param>
    /// <param name="generator">The source of randomness (a CPU generator; parameters are moved to the batch's device).</param>
    /// <returns>The transformed images and targets.</returns>
    (Tensor Images, Tensor Targets) Apply(Tensor images, Tensor targets, torch.Generator generator);

    /// <summary>A readable one-line description, e.g. <c>RandomRotation(degrees=15, p=0.5)</c>.</summary>
    string Describe();
}
