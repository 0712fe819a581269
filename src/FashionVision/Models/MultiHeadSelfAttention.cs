using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Models;

/// <summary>
/// Multi-head scaled dot-product self-attention over a sequence of tokens (Vaswani et al. 2017), as in ViT.
/// </summary>
/// <remarks>
/// Structure (input and output N×T×D, h heads of width d = D / h):
/// <code>
/// q, k, v = Query(x), Key(x), Value(x)           Linear(D, D) each, split into h heads: N×h×T×d
/// a = softmax(q·kᵀ / √d)                         over the last axis: N×h×T×T
/// y = Projection(merge heads(a·v))               Linear(D, D)
/// </code>
/// The two products q·kᵀ and a·v cost 2·T²·D multiply-adds per sequence, which this module reports to
/// <see cref="FlopCounter"/> (the four Linear layers are counted as such).
/// </remarks>
public sealed class MultiHeadSelfAttention : nn.Module<Tensor, Tensor>, IFlopContributor
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear projection;

    /// <summary>Creates the attention.</summary>
    /// <param name="dimension">The token width D.</param>
    /// <param name="heads">The number of heads h; it must divide D.</param>
    public MultiHeadSelfAttention(long dimension, int heads) : base(nameof(MultiHeadSelfAttention))
    {
        if (dimension <= 0)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The token width must be positive.");
        if (heads <= 0 || dimension % heads != 0)
            throw new ArgumentOutOfRangeException(nameof(heads), heads, $"The number of heads must be positive and divide the token width {dimension}.");
        Dimension = dimension;
        Heads = heads;
        query = nn.Linear(dimension, dimension);
        key = nn.Linear(dimension, dimension);
        value = nn.Linear(dimension, dimension);
        projection = nn.Linear(dimension, dimension);
        RegisterComponents();
    }

    /// <summary>The token width D.</summary>
    public long Dimension { get; }

    /// <summary>The number of heads h.</summary>
    public int Heads { get; }

    /// <summary>The width of one head, D / h.</summary>
    public long HeadDimension => Dimension / Heads;

    /// <summary>The query projection.</summary>
    public Linear Query => query;

    /// <summary>The key projection.</summary>
    public Linear Key => key;

    /// <summary>The value projection.</summary>
    public Linear Value => value;

    /// <summary>The output projection.</summary>
    public Linear Projection => projection;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        if (input.dim() != 3 || input.shape[2] != Dimension)
            throw new ArgumentException($"Self-attention expects tokens N×T×{Dimension}; got [{string.Join(", ", input.shape)}].", nameof(input));
        using var scope = NewDisposeScope();
        long n = input.shape[0], t = input.shape[1];
        Tensor Split(Linear projectionIn) => projectionIn.call(input).view(n, t, Heads, HeadDimension).transpose(1, 2);
        var q = Split(query);
        var k = Split(key);
        var v = Split(value);
        var attention = nn.functional.softmax(q.matmul(k.transpose(2, 3)).mul(1.0 / Math.Sqrt(HeadDimension)), -1);
        var merged = attention.matmul(v).transpose(1, 2).reshape(n, t, Dimension);
        return scope.MoveToOuter(projection.call(merged));
    }

    /// <inheritdoc />
    public long OwnMultiplyAdds(Tensor output) => 2 * output.shape[0] * output.shape[1] * output.shape[1] * output.shape[2];
}
