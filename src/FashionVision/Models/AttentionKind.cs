namespace FashionVision.Models;

/// <summary>The channel/spatial attention a zoo model inserts into its blocks.</summary>
public enum AttentionKind
{
    /// <summary>No attention: the plain architecture.</summary>
    None,

    /// <summary>Squeeze-and-Excitation (Hu et al. 2018): a per-channel gate from globally pooled features.</summary>
    SqueezeExcitation,

    /// <summary>CBAM (Woo et al. 2018): a channel gate from average- and max-pooled features, then a spatial gate.</summary>
    Cbam,
}
