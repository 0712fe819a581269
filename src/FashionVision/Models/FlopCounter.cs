using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Counts the floating-point operations of a forward pass: 2 × the multiply-adds of every <see cref="Conv2d"/> and
/// <see cref="Linear"/> layer, plus those a module reports as its own through <see cref="IFlopContributor"/> (the attention
/// products of a Transformer), the convention of most papers and of torchvision's model tables, which quote multiply-adds.
/// </summary>
/// <remarks>
/// Spatial sizes come from running one zero image through the model in evaluation mode with forward hooks on every
/// Conv2d and Linear, so strides, padding and pooling are accounted for exactly. A convolution costs
/// <c>N_out × H_out × W_out × (C_in / groups) × k_h × k_w</c> multiply-adds, a linear layer <c>in × out</c> per output row,
/// self-attention <c>2·T²·D</c> per sequence. Biases, BatchNorm, LayerNorm, activations, softmax, pooling and the element-wise
/// products of attention gates are not counted (they are a fraction of a percent of the total for every zoo model).
/// </remarks>
public static class FlopCounter
{
    /// <summary>Counts the FLOPs of one forward pass of <paramref name="model"/> for one image of shape C×H×W.</summary>
    /// <param name="model">The model (its training flag is restored afterwards).</param>
    /// <param name="channels">Channels of the image.</param>
    /// <param name="height">Height of the image.</param>
    /// <param name="width">Width of the image.</param>
    /// <returns>FLOPs per image (2 × multiply-adds).</returns>
    public static long CountFlops(nn.Module<Tensor, Tensor> model, long channels, long height, long width) =>
        2 * CountMultiplyAdds(model, channels, height, width);

    /// <summary>Counts the multiply-adds of one forward pass of <paramref name="model"/> for one image of shape C×H×W.</summary>
    /// <param name="model">The model (its training flag is restored afterwards).</param>
    /// <param name="channels">Channels of the image.</param>
    /// <param name="height">Height of the image.</param>
    /// <param name="width">Width of the image.</param>
    public static long CountMultiplyAdds(nn.Module<Tensor, Tensor> model, long channels, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (channels <= 0)
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Channels must be positive.");
        if (height <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), height, "Height must be positive.");
        if (width <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be positive.");

        long total = 0;
        var removers = new List<Action>();
        foreach (var module in model.named_modules().Select(m => m.module).Prepend(model))
        {
            switch (module)
            {
                case Conv2d conv:
                    removers.Add(conv.register_forward_hook((m, _, output) =>
                    {
                        var c = (Conv2d)m;
                        total += output.numel() * (c.in_channels / c.groups) * c.kernel_size[0] * c.kernel_size[1];
                        return output;
                    }).remove);
                    break;
                case Linear linear:
                    removers.Add(linear.register_forward_hook((m, _, output) =>
                    {
                        total += output.numel() * ((Linear)m).in_features;
                        return output;
                    }).remove);
                    break;
                case IFlopContributor when module is nn.Module<Tensor, Tensor> contributor:
                    removers.Add(contributor.register_forward_hook((m, _, output) =>
                    {
                        total += ((IFlopContributor)m).OwnMultiplyAdds(output);
                        return output;
                    }).remove);
                    break;
            }
        }

        bool wasTraining = model.training;
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        try
        {
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.call(zeros(new[] { 1, channels, height, width }, device: device));
        }
        finally
        {
            foreach (var remove in removers)
                remove();
            model.train(wasTraining);
        }
        return total;
    }
}
