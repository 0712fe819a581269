using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>The pre-norm Transformer encoder block of ViT (Dosovitskiy et al., ICLR 2021): attention and an MLP, each in a residual branch.</summary>
/// <remarks>
/// Structure (input and output N×T×D):
/// <code>
/// x = x + Attention(Norm1(x))            LayerNorm(D), MultiHeadSelfAttention(D, h)
/// x = x + Fc2(Gelu(Fc1(Norm2(x))))       LayerNorm(D), Linear(D, r·D), GELU, Linear(r·D, D)
/// </code>
/// </remarks>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm norm1;
    private readonly MultiHeadSelfAttention attention;
    private readonly LayerNorm norm2;
    private readonly Linear fc1;
    private readonly GELU gelu;
    private readonly Linear fc2;

    /// <summary>Creates the block.</summary>
    /// <param name="dimension">The token width D.</param>
    /// <param name="heads">Attention heads h (must divide D).</param>
    /// <param name="mlpRatio">The MLP's hidden width as a multiple of D (4 in ViT-Base; 2 in the zoo's small ViT).</param>
    public TransformerBlock(long dimension, int heads, double mlpRatio = 2) : base(nameof(TransformerBlock))
    {
        if (!(mlpRatio > 0 && double.IsFinite(mlpRatio)))
            throw new ArgumentOutOfRangeException(nameof(mlpRatio), mlpRatio, "The MLP ratio must be finite and positive.");
        norm1 = nn.LayerNorm(dimension);
        attention = new MultiHeadSelfAttention(dimension, heads);
        norm2 = nn.LayerNorm(dimension);
        long hidden = Math.Max(1, (long)Math.Round(dimension * mlpRatio));
        fc1 = nn.Linear(dimension, hidden);
        gelu = nn.GELU();
        fc2 = nn.Linear(hidden, dimension);
        RegisterComponents();
    }

    /// <summary>LayerNorm before the attention.</summary>
    public LayerNorm Norm1 => norm1;

    /// <summary>The self-attention.</summary>
    public MultiHeadSelfAttention Attention => attention;

    /// <summary>LayerNorm before the MLP.</summary>
    public LayerNorm Norm2 => norm2;

    /// <summary>The MLP's first layer (D → r·D).</summary>
    public Linear Fc1 => fc1;

    /// <summary>The MLP's activation.</summary>
    public GELU Gelu => gelu;

    /// <summary>The MLP's second layer (r·D → D).</summary>
    public Linear Fc2 => fc2;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = input + attention.call(norm1.call(input));
        x = x + fc2.call(gelu.call(fc1.call(norm2.call(x))));
        return scope.MoveToOuter(x);
    }
}
