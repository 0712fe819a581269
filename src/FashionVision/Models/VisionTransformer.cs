using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// A small Vision Transformer (Dosovitskiy et al., ICLR 2021) for 28×28 inputs: non-overlapping p×p patches become tokens,
/// learned position embeddings are added, pre-norm Transformer blocks mix them, and the head averages the tokens (the
/// global-average-pool head of Beyer et al. 2022, "Better plain ViT baselines", instead of a class token).
/// </summary>
/// <remarks>
/// Structure (patch p, width D, depth L, h heads, MLP ratio r; g = 28 / p, T = g² tokens):
/// <code>
/// PatchEmbedding               Conv2d(C, D, p, stride p)                       N×D×g×g, flattened to tokens N×T×D
/// + Position                   a learned N×T×D parameter (normal, std 0.02)
/// Blocks                       L × TransformerBlock (LayerNorm, attention, LayerNorm, MLP)
/// Norm                         LayerNorm(D); the tokens go back to a map N×D×g×g (the feature map Grad-CAM reads)
/// head: AvgPool → Dropout → Fc the mean over the g×g tokens, Linear(D, classes) (<see cref="GlobalPoolingClassifier"/>)
/// </code>
/// The zoo's <c>small-vit</c> (p = 4, D = 96, L = 6, h = 4, r = 2) has 49 tokens, 456,202 parameters and about 24.5 M
/// multiply-adds per image, a fifth of them in the attention products. The position embedding fixes the input size.
/// </remarks>
public sealed class VisionTransformer : GlobalPoolingClassifier
{
    private readonly Conv2d patch_embedding;
    private readonly Parameter position;
    private readonly Sequential blocks;
    private readonly LayerNorm norm;

    /// <summary>Creates the network.</summary>
    /// <param name="patchSize">The patch side p; it must divide the image size.</param>
    /// <param name="dimension">The token width D.</param>
    /// <param name="depth">The number of Transformer blocks L.</param>
    /// <param name="heads">Attention heads h (must divide D).</param>
    /// <param name="mlpRatio">The MLP's hidden width as a multiple of D.</param>
    /// <param name="inputChannels">Channels of the input.</param>
    /// <param name="numClasses">Classes of the head.</param>
    /// <param name="dropRate">Dropout before the linear layer.</param>
    /// <param name="imageSize">The side of the square input (28).</param>
    public VisionTransformer(int patchSize = 4, long dimension = 96, int depth = 6, int heads = 4, double mlpRatio = 2,
        int inputChannels = 1, int numClasses = 10, double dropRate = 0.0, int imageSize = 28)
        : base(nameof(VisionTransformer), inputChannels, numClasses)
    {
        if (patchSize <= 0 || imageSize <= 0 || imageSize % patchSize != 0)
            throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, $"The patch size must be positive and divide the image size {imageSize}.");
        if (depth <= 0)
            throw new ArgumentOutOfRangeException(nameof(depth), depth, "The depth must be positive.");
        Initialization.CheckDropRate(dropRate, nameof(dropRate));
        PatchSize = patchSize;
        Dimension = dimension;
        GridSize = imageSize / patchSize;
        patch_embedding = nn.Conv2d(inputChannels, dimension, patchSize, stride: patchSize);
        position = new Parameter(zeros(1, GridSize * GridSize, dimension));
        blocks = nn.Sequential();
        for (int i = 0; i < depth; i++)
            blocks.append(new TransformerBlock(dimension, heads, mlpRatio));
        norm = nn.LayerNorm(dimension);
        RegisterComponents();
        AddHead(dimension, dropRate);
        Initialize();
    }

    // ViT's initialisation: Xavier-uniform linear layers with zero bias, the patch embedding like a linear layer over the
    // flattened patch, position embeddings N(0, 0.02²); LayerNorms start as the identity (their default).
    private void Initialize()
    {
        using var noGrad = no_grad();
        foreach (var linear in blocks.modules().OfType<Linear>())
        {
            nn.init.xavier_uniform_(linear.weight);
            linear.bias?.zero_();
        }
        nn.init.xavier_uniform_(patch_embedding.weight.view(Dimension, -1));
        patch_embedding.bias?.zero_();
        nn.init.normal_(position, 0, 0.02);
    }

    /// <summary>The patch side p.</summary>
    public int PatchSize { get; }

    /// <summary>The token width D.</summary>
    public long Dimension { get; }

    /// <summary>Patches per side, g = image size / p (7 for 28×28 and p = 4); there are g² tokens.</summary>
    public long GridSize { get; }

    /// <summary>The patch embedding (a p×p convolution with stride p).</summary>
    public Conv2d PatchEmbedding => patch_embedding;

    /// <summary>The learned position embeddings, 1×T×D.</summary>
    public Parameter Position => position;

    /// <summary>The Transformer blocks.</summary>
    public Sequential Blocks => blocks;

    /// <summary>The final LayerNorm.</summary>
    public LayerNorm Norm => norm;

    /// <inheritdoc />
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        var patches = patch_embedding.call(input);
        if (patches.shape[2] != GridSize || patches.shape[3] != GridSize)
            throw new ArgumentException(
                $"This ViT was built for {GridSize * PatchSize}×{GridSize * PatchSize} images (its position embeddings fix the size); got [{string.Join(", ", input.shape)}].",
                nameof(input));
        var tokens = patches.flatten(2).transpose(1, 2) + position;
        tokens = norm.call(blocks.call(tokens));
        return scope.MoveToOuter(tokens.transpose(1, 2).reshape(input.shape[0], Dimension, GridSize, GridSize));
    }
}
