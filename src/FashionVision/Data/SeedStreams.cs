namespace FashionVision.Data;

/// <summary>
/// The distinct random streams one run seed drives, so that no two consumers of randomness draw the same numbers.
/// </summary>
/// <remarks>
/// <para>A <see cref="Training.Trainer"/> run with <c>TrainerOptions.Seed = s</c> uses three streams:</para>
/// <list type="table">
/// <item><term>torch's global generator</term><description><see cref="TorchGlobal"/>(s) = s: dropout masks and anything else
/// drawn without an explicit generator (<c>torch.manual_seed</c>).</description></item>
/// <item><term>loader order</term><description><see cref="LoaderEpoch"/>(s, e): a fresh generator per epoch e for
/// <see cref="DataLoader"/>'s permutation, so epoch e's batches depend only on (s, e) and a resumed run sees the same
/// batches.</description></item>
/// <item><term>augmentation</term><description><see cref="Augmentation"/>(s): the generator every <c>IBatchTransform</c>
/// draws its per-sample parameters from.</description></item>
/// </list>
/// <para>The derived seeds are SplitMix64 mixes of s with a stream number (epoch e is stream e + 1; augmentation is stream
/// 2³², beyond any epoch), so the streams are unrelated to each other and to s itself. The model's initial weights are a
/// fourth, separate choice of the caller (<c>ModelOptions.Seed</c>).</para>
/// </remarks>
public static class SeedStreams
{
    private const ulong AugmentationStream = 1UL << 32;

    /// <summary>The seed of torch's global generator for run seed <paramref name="seed"/>: the seed itself.</summary>
    public static long TorchGlobal(long seed) => seed;

    /// <summary>The seed of the loader's permutation of epoch <paramref name="epoch"/> (0-based).</summary>
    public static ulong LoaderEpoch(long seed, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return Derive(seed, (ulong)epoch + 1);
    }

    /// <summary>The seed of the augmentation generator for run seed <paramref name="seed"/>.</summary>
    public static ulong Augmentation(long seed) => Derive(seed, AugmentationStream);

    /// <summary>SplitMix64 of <paramref name="seed"/> advanced <paramref name="stream"/> steps: unrelated values for distinct streams.</summary>
    private static ulong Derive(long seed, ulong stream)
    {
        ulong z = unchecked((ulong)seed + 0x9E3779B97F4A7C15UL * stream);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
