namespace FashionVision.Models;

/// <summary>What <see cref="StateDicts.Load"/> did.</summary>
/// <param name="Loaded">Model keys that received values.</param>
/// <param name="Missing">Model keys left untouched because the weights lack them (empty after a strict load, except tolerated
/// <c>num_batches_tracked</c> counters).</param>
/// <param name="Unexpected">Weight keys the model has no place for (empty after a strict load).</param>
public sealed record StateDictLoadResult(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected);
