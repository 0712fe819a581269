using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>Transfer-learning helpers: freeze the backbone, replace the head, adapt an RGB stem to grayscale, import torchvision weights.</summary>
public static class FineTuning
{
    /// <summary>Stops gradients to the feature extractor (<c>requires_grad = false</c> on <see cref="ImageClassifier.FeatureParameters"/>) and enables them on the head.</summary>
    /// <param name="model">The model.</param>
    /// <remarks>BatchNorm running statistics still update in training mode; call <c>eval()</c> on the backbone modules to freeze them too.</remarks>
    public static void FreezeBackbone(ImageClassifier model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var parameter in model.FeatureParameters())
            parameter.requires_grad = false;
        foreach (var parameter in model.HeadParameters())
            parameter.requires_grad = true;
    }

    /// <summary>Makes every parameter trainable again.</summary>
    /// <param name="model">The model.</param>
    public static void Unfreeze(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var parameter in model.parameters())
            parameter.requires_grad = true;
    }

    /// <summary>Replaces the classifier with a freshly initialised one for <paramref name="numClasses"/> classes (<see cref="ImageClassifier.ResetClassifier"/>).</summary>
    /// <param name="model">The model.</param>
    /// <param name="numClasses">The new class count.</param>
    public static void ReplaceHead(ImageClassifier model, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.ResetClassifier(numClasses);
    }

    /// <summary>
    /// Adapts a stem convolution weight (out × 3 × k × k, trained on RGB) to one input channel by summing over the input
    /// channels: on a gray image replicated to three channels the adapted convolution gives exactly the original output.
    /// </summary>
    /// <param name="weight">A convolution weight out × in × k × k.</param>
    /// <returns>A new tensor out × 1 × k × k.</returns>
    /// <exception cref="ArgumentException">The weight is not 4-dimensional.</exception>
    public static Tensor SumInputChannels(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 4)
            throw new ArgumentException($"A convolution weight has 4 dimensions; got {weight.dim()}.", nameof(weight));
        using (no_grad())
            return weight.sum(new long[] { 1 }, keepdim: true);
    }

    /// <summary>
    /// Loads torchvision <c>resnet18</c> weights (a safetensors file, e.g. saved in Python with
    /// <c>safetensors.torch.save_file(torchvision.models.resnet18(weights="DEFAULT").state_dict(), path)</c>) into a zoo
    /// <c>resnet18-imagenet</c> model. When the model has one input channel, <c>conv1.weight</c> is summed over its RGB
    /// channels (<see cref="SumInputChannels"/>); when its class count is not 1000, the <c>fc</c> weights are skipped and
    /// the model keeps its fresh head. Everything else must match exactly.
    /// </summary>
    /// <param name="model">A <c>resnet18-imagenet</c> model (<see cref="ResNetStem.ImageNet"/> stem, width 1).</param>
    /// <param name="path">The safetensors file.</param>
    /// <returns>What was loaded.</returns>
    /// <exception cref="StateDictMismatchException">The file is not a resnet18 state dict of the expected shapes.</exception>
    /// <exception cref="SafeTensorsFormatException">The file is malformed.</exception>
    public static StateDictLoadResult LoadTorchvisionResNet18(ResNet model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Stem != ResNetStem.ImageNet)
            throw new ArgumentException("torchvision weights need the ImageNet stem (model 'resnet18-imagenet').", nameof(model));
        var source = SafeTensors.Read(path);
        try
        {
            var adapted = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (key, tensor) in source)
                adapted[TorchvisionNames.ResNet18(key)] = tensor;
            if (model.InputChannels == 1 && adapted.TryGetValue("conv1.weight", out var stem) && stem.dim() == 4 && stem.shape[1] == 3)
                adapted["conv1.weight"] = SumInputChannels(stem);
            bool keepHead = model.NumClasses != 1000;
            var result = StateDicts.Load(model, adapted, strict: !keepHead,
                mapName: keepHead ? key => key.StartsWith("fc.", StringComparison.Ordinal) ? null : key : null, sourceName: path);
            if (keepHead)
            {
                var missing = result.Missing.Where(k => !k.StartsWith("fc.", StringComparison.Ordinal)
                    && !k.EndsWith(StateDicts.NumBatchesTrackedSuffix, StringComparison.Ordinal)).ToList();
                if (missing.Count > 0 || result.Unexpected.Count > 0)
                    throw new StateDictMismatchException(path, missing, result.Unexpected, Array.Empty<ShapeMismatch>());
            }
            return result;
        }
        finally
        {
            foreach (var tensor in source.Values)
                tensor.Dispose();
        }
    }
}
