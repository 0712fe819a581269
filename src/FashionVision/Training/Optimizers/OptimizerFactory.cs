using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>Builds optimizers with parameter groups: weight decay kept off normalisation and bias parameters, and per-layer learning rates.</summary>
public static class OptimizerFactory
{
    /// <summary>Creates the optimizer for the trainable parameters of <paramref name="model"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range, or the model has no trainable parameters.</exception>
    public static optim.Optimizer Create(nn.Module model, OptimizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new OptimizerOptions();
        options.Validate();
        var groups = BuildGroups(model, options);
        if (groups.Count == 0)
            throw new ArgumentException("The model has no trainable parameters.", nameof(model));

        optim.Optimizer optimizer = options.Kind switch
        {
            OptimizerKind.Sgd => new SGD(groups.Select(g => new SGD.ParamGroup(g.Parameters, g.LearningRate, options.Momentum, 0, g.WeightDecay, options.Nesterov, false)), options.LearningRate, options.Momentum, 0, options.WeightDecay, options.Nesterov, false),
            OptimizerKind.Adam => new Adam(groups.Select(g => new Adam.ParamGroup(g.Parameters, g.LearningRate, options.Beta1, options.Beta2, options.Epsilon, g.WeightDecay, false, false)), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay, false, false),
            OptimizerKind.AdamW => new AdamW(groups.Select(g => new AdamW.ParamGroup(g.Parameters, g.LearningRate, options.Beta1, options.Beta2, options.Epsilon, g.WeightDecay, false, false)), options.LearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay, false, false),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Kind, "Unknown optimizer kind."),
        };
        return options.Lookahead is { } la ? new Lookahead(optimizer, la.K, la.Alpha) : optimizer;
    }

    /// <summary>One parameter group: its parameters, base learning rate and weight decay.</summary>
    /// <param name="Names">The parameter names, for inspection.</param>
    /// <param name="Parameters">The parameters.</param>
    /// <param name="LearningRate">The base learning rate.</param>
    /// <param name="WeightDecay">The weight decay.</param>
    public sealed record ParameterGroup(IReadOnlyList<string> Names, IReadOnlyList<Parameter> Parameters, double LearningRate, double WeightDecay);

    /// <summary>Splits the trainable parameters into groups by (learning rate, decayed or not), in model order.</summary>
    public static IReadOnlyList<ParameterGroup> BuildGroups(nn.Module model, OptimizerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var order = new List<(double Lr, double Wd)>();
        var members = new Dictionary<(double Lr, double Wd), (List<string> Names, List<Parameter> Parameters)>();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (!parameter.requires_grad)
                continue;
            double lr = options.LayerLearningRates.FirstOrDefault(l => name.StartsWith(l.Prefix, StringComparison.Ordinal))?.LearningRate ?? options.LearningRate;
            bool noDecay = options.NoWeightDecayOnNormAndBias && parameter.dim() <= 1;
            var key = (lr, noDecay ? 0.0 : options.WeightDecay);
            if (!members.TryGetValue(key, out var group))
            {
                group = (new List<string>(), new List<Parameter>());
                members[key] = group;
                order.Add(key);
            }
            group.Names.Add(name);
            group.Parameters.Add(parameter);
        }
        return order.Select(k => new ParameterGroup(members[k].Names, members[k].Parameters, k.Lr, k.Wd)).ToList();
    }
}
