using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Data-dependent and structural initialisations of convolutions from the fast-training literature: patch whitening of
/// the first layer and identity (Dirac) initialisation of same-width layers.
/// </summary>
public static class ConvInitialization
{
    /// <summary>
    /// Initialises <paramref name="conv"/> as a whitening filter bank for the patches it sees: the eigenvectors of the
    /// (uncentred) covariance of the k×k patches of <paramref name="images"/>, each scaled by 1/√(λ + ε), in ± pairs
    /// from the largest eigenvalue down. The filters' responses to those patches are then decorrelated with unit variance,
    /// so the first layer starts out doing what it would otherwise spend the first epochs learning.
    /// </summary>
    /// <remarks>
    /// A kernel of k×k over C channels has D = C·k² directions, hence 2D whitening filters: with more output channels the
    /// rest keep their initialisation; with fewer, the directions of least variance are left out. The bias, if any, is
    /// zeroed. The images must be prepared the way the model will see them (normalised). Set <paramref name="freeze"/> to
    /// keep the filters fixed during training (airbench's choice for its first layer).
    /// </remarks>
    /// <param name="conv">The convolution (groups = 1, dilation 1).</param>
    /// <param name="images">Sample images N×C×H×W (float), e.g. a few thousand training images.</param>
    /// <param name="epsilon">Added to each eigenvalue before the square root (default 5e-4), which caps the gain of near-empty directions.</param>
    /// <param name="freeze">Whether to stop the weight (and bias) from training.</param>
    /// <exception cref="ArgumentException">The convolution is grouped or dilated, or the images do not match its input channels or are smaller than its kernel.</exception>
    public static void Whiten(Conv2d conv, Tensor images, double epsilon = 5e-4, bool freeze = false)
    {
        ArgumentNullException.ThrowIfNull(conv);
        ArgumentNullException.ThrowIfNull(images);
        if (conv.groups != 1 || conv.dilation.Any(d => d != 1))
            throw new ArgumentException("Whitening needs an ungrouped, undilated convolution.", nameof(conv));
        if (images.dim() != 4 || images.shape[1] != conv.in_channels)
            throw new ArgumentException($"Expected images N×{conv.in_channels}×H×W, got [{string.Join(", ", images.shape)}].", nameof(images));
        long kh = conv.kernel_size[0], kw = conv.kernel_size[1];
        if (images.shape[2] < kh || images.shape[3] < kw)
            throw new ArgumentException($"The images ({images.shape[2]}×{images.shape[3]}) are smaller than the kernel ({kh}×{kw}).", nameof(images));
        if (!(epsilon > 0))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "Epsilon must be positive.");

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (values, vectors) = PatchEigenbasis(images.to(conv.weight.device), kh, kw);
            long dims = values.shape[0];
            long pairs = Math.Min(dims, conv.out_channels / 2);
            // Largest eigenvalues first: the top `pairs` directions, scaled to unit variance.
            var order = values.argsort(descending: true).narrow(0, 0, pairs);
            var scaled = vectors.index_select(1, order).t().div(values.index_select(0, order).add(epsilon).sqrt().unsqueeze(1));
            var filters = cat(new[] { scaled, scaled.neg() }, 0).view(2 * pairs, conv.in_channels, kh, kw);
            conv.weight.narrow(0, 0, 2 * pairs).copy_(filters.to_type(conv.weight.dtype));
            conv.bias?.zero_();
        }
        if (freeze)
        {
            conv.weight.requires_grad = false;
            if (conv.bias is not null)
                conv.bias.requires_grad = false;
        }
    }

    /// <summary>
    /// Whitens the first convolution of <paramref name="model"/> (in module order) with patch statistics of the first
    /// <paramref name="sampleSize"/> images of <paramref name="data"/>, normalised with <paramref name="normalization"/>
    /// the way the trainer will feed them (see <see cref="Whiten"/>).
    /// </summary>
    /// <param name="model">The model; its first <see cref="Conv2d"/> is whitened.</param>
    /// <param name="data">The training images (uint8 N×C×H×W tensors in an <see cref="Data.InMemoryDataset"/>).</param>
    /// <param name="normalization">The per-channel statistics the inputs are normalised with, or null for inputs in [0, 1].</param>
    /// <param name="sampleSize">How many images to take the statistics from (default 5,000).</param>
    /// <param name="epsilon">See <see cref="Whiten"/>.</param>
    /// <param name="freeze">Whether the whitening filters stay fixed during training (default true).</param>
    /// <exception cref="ArgumentException">The model has no convolution.</exception>
    public static void WhitenFirstConvolution(nn.Module model, Data.InMemoryDataset data, Data.ChannelStatistics? normalization,
        int sampleSize = 5000, double epsilon = 5e-4, bool freeze = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleSize, 1);
        var first = model.modules().OfType<Conv2d>().FirstOrDefault()
                    ?? throw new ArgumentException($"{model.GetType().Name} has no convolution to whiten.", nameof(model));
        using var scope = NewDisposeScope();
        var images = data.Images.narrow(0, 0, Math.Min(sampleSize, data.Count)).to(first.weight.device).to_type(ScalarType.Float32).div(255f);
        if (normalization is { } stats)
        {
            var shape = new long[] { 1, stats.Channels, 1, 1 };
            images = images.sub(tensor(stats.Mean, shape, device: images.device)).div(tensor(stats.Std, shape, device: images.device));
        }
        Whiten(first, images, epsilon, freeze);
    }

    /// <summary>The eigenvalues (D) and eigenvectors (D×D, as columns) of the uncentred covariance of the kh×kw patches of <paramref name="images"/>.</summary>
    public static (Tensor Values, Tensor Vectors) PatchEigenbasis(Tensor images, long kh, long kw)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var scope = NewDisposeScope();
        var x = images.to_type(ScalarType.Float64);
        var patches = nn.functional.unfold(x, (kh, kw)).transpose(1, 2).reshape(-1, x.shape[1] * kh * kw);
        var covariance = patches.t().matmul(patches).div(patches.shape[0]);
        var (values, vectors) = linalg.eigh(covariance);
        return (scope.MoveToOuter(values.clamp_min(0).to_type(ScalarType.Float32)), scope.MoveToOuter(vectors.to_type(ScalarType.Float32)));
    }

    /// <summary>
    /// Initialises <paramref name="conv"/> as the identity (PyTorch's <c>dirac_</c>): output channel i copies input channel
    /// i through the kernel's centre tap, so a residual branch or a deep stack starts as a pass-through. Output channels
    /// beyond the input channels, and every other tap, are zero; <paramref name="noise"/> adds a normal perturbation of that
    /// standard deviation (breaking the symmetry between filters).
    /// </summary>
    /// <exception cref="ArgumentException">The convolution is grouped or its kernel has an even side.</exception>
    public static void Dirac(Conv2d conv, double noise = 0)
    {
        ArgumentNullException.ThrowIfNull(conv);
        if (conv.groups != 1)
            throw new ArgumentException("Dirac initialisation needs an ungrouped convolution.", nameof(conv));
        long kh = conv.kernel_size[0], kw = conv.kernel_size[1];
        if (kh % 2 == 0 || kw % 2 == 0)
            throw new ArgumentException("Dirac initialisation needs a kernel with odd sides (it has a centre tap).", nameof(conv));
        if (!(noise >= 0))
            throw new ArgumentOutOfRangeException(nameof(noise), noise, "The noise level cannot be negative.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long n = Math.Min(conv.out_channels, conv.in_channels);
        conv.weight.zero_();
        conv.weight.narrow(0, 0, n).narrow(1, 0, n).select(3, kw / 2).select(2, kh / 2)
            .copy_(eye(n, dtype: conv.weight.dtype, device: conv.weight.device));
        if (noise > 0)
            conv.weight.add_(randn_like(conv.weight).mul_(noise));
        conv.bias?.zero_();
    }
}
