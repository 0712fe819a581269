using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Models.Pruning;

/// <summary>
/// Structured channel pruning: ranks the filters of every channel group of a model (filter L1 norm or BatchNorm scale),
/// keeps the best fraction, and rebuilds the model with genuinely smaller convolutions, BatchNorms and head, copying the
/// kept weights, so parameters and FLOPs shrink for real (no masks). Fine-tune the result with the <c>Trainer</c>.
/// </summary>
/// <example>
/// <code>
/// var result = ChannelPruner.Prune(model, new PruningOptions { Keep = 0.6 });
/// using var pruned = result.Model;           // same architecture, 60% of the channels of every group
/// var options = originalOptions with { Width = null, ChannelWidths = result.ChannelWidths };   // rebuilds it from the zoo
/// </code>
/// </example>
/// <remarks>
/// Channels tied across a residual addition form one group (<see cref="IChannelPrunable.ChannelGroups"/>), ranked by the
/// sum over its producing convolutions of each one's importance divided by that convolution's mean importance, so every
/// layer of the group has an equal say. Removing a channel removes its filter from every producer, its BatchNorm entries,
/// and its input slice from every consumer, so the pruned network computes exactly what the original computes when the
/// removed channels are zero.
/// </remarks>
public static class ChannelPruner
{
    private static readonly string[] BatchNormTensors = ["weight", "bias", "running_mean", "running_var"];

    /// <summary>Prunes <paramref name="model"/> into a new, smaller model; the original is left unchanged.</summary>
    /// <param name="model">A model that implements <see cref="IChannelPrunable"/> (fast-cnn, the ResNets without attention).</param>
    /// <param name="options">The fraction kept and the ranking (null: the defaults).</param>
    /// <exception cref="NotSupportedException">The model is not prunable (the message says why).</exception>
    /// <exception cref="ArgumentException">An option is out of range (the parameter name is the option).</exception>
    public static PruningResult Prune(ImageClassifier model, PruningOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new PruningOptions();
        options.Validate();
        var prunable = model as IChannelPrunable ?? throw new NotSupportedException(
            $"{model.GetType().Name} cannot be pruned: it does not implement {nameof(IChannelPrunable)} (fast-cnn and the ResNets without attention do).");
        var groups = prunable.ChannelGroups();

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var state = model.state_dict();
        var slices = new Dictionary<string, List<(int Dimension, Tensor Indices)>>();
        var pruned = new List<PrunedGroup>();
        foreach (var group in groups)
        {
            var kept = RankChannels(state, group, options.Importance).Take(KeptWidth(group.Width, options.Keep)).Order().ToArray();
            pruned.Add(new PrunedGroup(group.Name, group.Width, kept));
            foreach (var (name, dimension, repeats) in Slices(state, group))
            {
                var indices = Enumerable.Range(0, repeats).SelectMany(r => kept.Select(c => (long)(r * group.Width + c))).ToArray();
                if (!slices.TryGetValue(name, out var list))
                    slices[name] = list = [];
                if (list.Any(s => s.Dimension == dimension))
                    throw new InvalidOperationException($"{model.GetType().Name}'s channel groups index '{name}' along dimension {dimension} twice.");
                list.Add((dimension, tensor(indices, device: state[name].device)));
            }
        }

        var widths = pruned.Select(g => g.WidthAfter).ToArray();
        var result = Rebuild(prunable, widths);
        try
        {
            CopyKeptWeights(model, state, slices, result);
            var device = model.parameters().FirstOrDefault()?.device ?? CPU;
            result.to(device);
            result.train(model.training);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return new PruningResult(result, widths, pruned, ParameterCount(model), ParameterCount(result));
    }

    /// <summary>The width a group of <paramref name="width"/> channels keeps: the rounded fraction, at least 1.</summary>
    /// <param name="width">The group's width.</param>
    /// <param name="keep">The fraction kept, in (0, 1].</param>
    public static int KeptWidth(int width, double keep) => Math.Max(1, (int)Math.Round(width * keep, MidpointRounding.AwayFromZero));

    /// <summary>
    /// The importance of each channel of <paramref name="group"/> in <paramref name="model"/>: for every producer, its
    /// filters' L1 norms (or its BatchNorm's |γ|) divided by their mean, summed over the producers.
    /// </summary>
    /// <param name="model">The model the group belongs to.</param>
    /// <param name="group">One of its channel groups.</param>
    /// <param name="importance">The ranking.</param>
    /// <returns>One score per channel (higher is more important).</returns>
    public static double[] ChannelImportance(ImageClassifier model, ChannelGroup group, FilterImportance importance)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(group);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Importance(model.state_dict(), group, importance);
    }

    private static IEnumerable<int> RankChannels(Dictionary<string, Tensor> state, ChannelGroup group, FilterImportance importance)
    {
        var scores = Importance(state, group, importance);
        // Highest first; ties keep the lower index, so the result does not depend on the sort's internals.
        return Enumerable.Range(0, scores.Length).OrderByDescending(c => scores[c]).ThenBy(c => c);
    }

    private static double[] Importance(Dictionary<string, Tensor> state, ChannelGroup group, FilterImportance importance)
    {
        if (group.Producers.Count == 0)
            throw new InvalidOperationException($"Channel group '{group.Name}' has no producing convolution to rank.");
        var total = new double[group.Width];
        foreach (var producer in group.Producers)
        {
            Tensor score = importance switch
            {
                FilterImportance.L1Norm => Get(state, producer.Convolution + ".weight", group).abs().flatten(1).sum(1),
                FilterImportance.BatchNormScale => Get(state, (producer.BatchNorm ?? throw new NotSupportedException(
                    $"The convolution '{producer.Convolution}' of channel group '{group.Name}' has no BatchNorm to rank by its scale; use {nameof(FilterImportance.L1Norm)}.")) + ".weight", group).abs(),
                _ => throw new ArgumentOutOfRangeException(nameof(importance), importance, "Unknown filter importance."),
            };
            var values = score.to(float64).cpu().data<double>().ToArray();
            if (values.Length != group.Width)
                throw new InvalidOperationException($"Channel group '{group.Name}' has width {group.Width} but '{producer.Convolution}' produces {values.Length} channels.");
            double mean = values.Average();
            for (int c = 0; c < values.Length; c++)
                total[c] += mean > 0 ? values[c] / mean : 0;
        }
        return total;
    }

    private static IEnumerable<(string Name, int Dimension, int Repeats)> Slices(Dictionary<string, Tensor> state, ChannelGroup group)
    {
        foreach (var producer in group.Producers)
        {
            yield return (producer.Convolution + ".weight", 0, 1);
            if (state.ContainsKey(producer.Convolution + ".bias"))
                yield return (producer.Convolution + ".bias", 0, 1);
            if (producer.BatchNorm is { } batchNorm)
                foreach (var tensorName in BatchNormTensors.Where(t => state.ContainsKey($"{batchNorm}.{t}")))
                    yield return ($"{batchNorm}.{tensorName}", 0, 1);
        }
        foreach (var consumer in group.Consumers)
            yield return (consumer.Tensor, consumer.Dimension, consumer.Repeats);
    }

    private static Tensor Get(Dictionary<string, Tensor> state, string name, ChannelGroup group) =>
        state.TryGetValue(name, out var value) ? value
            : throw new InvalidOperationException($"Channel group '{group.Name}' names the tensor '{name}', which the model's state dict does not have.");

    private static ImageClassifier Rebuild(IChannelPrunable prunable, IReadOnlyList<int> widths)
    {
        // Building draws initial weights from torch's global generator; put its state back so pruning has no side effect.
        using var rngState = get_rng_state();
        try
        {
            return prunable.WithChannelWidths(widths);
        }
        finally
        {
            set_rng_state(rngState);
        }
    }

    private static void CopyKeptWeights(ImageClassifier model, Dictionary<string, Tensor> source,
        Dictionary<string, List<(int Dimension, Tensor Indices)>> slices, ImageClassifier result)
    {
        var target = result.state_dict();
        if (slices.Keys.FirstOrDefault(name => !source.ContainsKey(name)) is { } unknown)
            throw new InvalidOperationException($"{model.GetType().Name}'s channel groups name the tensor '{unknown}', which its state dict does not have.");
        foreach (var (name, value) in source)
        {
            var kept = value;
            foreach (var (dimension, indices) in slices.GetValueOrDefault(name) ?? [])
            {
                if (dimension >= kept.dim() || kept.shape[dimension] < indices.shape[0])
                    throw new InvalidOperationException($"'{name}' [{string.Join(", ", value.shape)}] cannot be sliced along dimension {dimension} to {indices.shape[0]} entries.");
                kept = kept.index_select(dimension, indices);
            }
            if (!target.TryGetValue(name, out var destination) || !destination.shape.SequenceEqual(kept.shape))
                throw new InvalidOperationException(
                    $"The pruned {model.GetType().Name} has {(destination is null ? "no" : $"[{string.Join(", ", destination.shape)}] for")} '{name}' where the kept weights are [{string.Join(", ", kept.shape)}]: its channel groups do not describe the architecture.");
            destination.copy_(kept);
        }
    }

    private static long ParameterCount(nn.Module model) => model.parameters().Sum(p => p.numel());
}
