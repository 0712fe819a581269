using FashionVision.Data;
using FashionVision.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Evaluation;

/// <summary>How <see cref="Evaluator"/> runs.</summary>
public sealed record EvaluatorOptions
{
    /// <summary>Images per batch (default 512).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>The device (default CPU); the model is moved there.</summary>
    public Device? Device { get; init; }

    /// <summary>The input normalisation the model was trained with (null = inputs in [0, 1]).</summary>
    public ChannelStatistics? Normalization { get; init; }

    /// <summary>The k of the top-k accuracies to report (default 1, 3 and 5; values ≥ the class count are skipped).</summary>
    public IReadOnlyList<int> TopK { get; init; } = new[] { 1, 3, 5 };

    /// <summary>
    /// Test-time augmentation: average each image's prediction over these views, e.g. <see cref="TestTimeAugmentation.HorizontalFlip"/>
    /// or <c>TestTimeAugmentation.Parse("flip,shift1")</c> (null: the plain model). Shifted-in pixels are black, taking
    /// <see cref="Normalization"/> into account.
    /// </summary>
    public TestTimeAugmentation? Tta { get; init; }

    /// <summary>How many of the most confident mistakes to keep (default 25).</summary>
    public int MistakeCount { get; init; } = 25;
}

/// <summary>
/// Evaluates a classifier on a labelled dataset: accuracy, top-k, per-class metrics, confusion matrix, mistakes. The
/// classifier can be an ensemble (<see cref="EnsembleClassifier"/>) and its predictions averaged over test-time views
/// (<see cref="EvaluatorOptions.Tta"/>).
/// </summary>
public static class Evaluator
{
    /// <summary>Evaluates <paramref name="model"/> on <paramref name="dataset"/> (in eval mode, without gradients; the model is left in eval mode).</summary>
    /// <exception cref="ArgumentException">The dataset is empty, or the model's outputs do not match its class count.</exception>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, InMemoryDataset dataset, EvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new EvaluatorOptions();
        if (options.MistakeCount < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.MistakeCount, "EvaluatorOptions.MistakeCount cannot be negative.");
        if (options.TopK.Any(k => k < 1))
            throw new ArgumentOutOfRangeException(nameof(options), "EvaluatorOptions.TopK values must be at least 1.");
        using var probabilities = PredictProbabilities(model, dataset, options);
        return Summarize(probabilities, dataset.Labels.cpu(), dataset.ClassNames, options.TopK, options.MistakeCount);
    }

    /// <summary>
    /// The softmax probabilities of every image of <paramref name="dataset"/> (N×K float32 on the CPU, in dataset order),
    /// in eval mode and without gradients, averaged over the views of <see cref="EvaluatorOptions.Tta"/> when set.
    /// The model is left in eval mode. <see cref="Evaluate"/> and the label-noise finder predict through here.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset is empty, or the model's outputs do not match its class count.</exception>
    public static Tensor PredictProbabilities(nn.Module<Tensor, Tensor> model, InMemoryDataset dataset, EvaluatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new EvaluatorOptions();
        int k = dataset.NumClasses;
        var probabilities = empty(new long[] { dataset.Count, k }, ScalarType.Float32);
        var tta = options.Tta is { IsIdentity: false } policy ? policy : null;
        var fill = TestTimeAugmentation.BlackLevel(options.Normalization);
        try
        {
            ForEachBatch(model, dataset, options, (batch, offset) =>
            {
                var p = (tta is null ? model.call(batch.Images) : tta.Forward(model, batch.Images, fill)).softmax(1);
                if (p.dim() != 2 || p.shape[1] != k)
                    throw new ArgumentException($"The model outputs [{string.Join(", ", p.shape)}] but the dataset '{dataset.Name}' has {k} classes.", nameof(model));
                probabilities.narrow(0, offset, batch.Size).copy_(p.cpu());
            });
            return probabilities;
        }
        catch
        {
            probabilities.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="step"/> on every batch of <paramref name="dataset"/> in order (with the batch and its first row's
    /// position), the model moved to the device and in eval mode, without gradients, each step inside its own DisposeScope.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset is empty, or the batch size is not positive.</exception>
    internal static void ForEachBatch(nn.Module<Tensor, Tensor> model, InMemoryDataset dataset, EvaluatorOptions options, Action<Batch, long> step)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        if (options.BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "EvaluatorOptions.BatchSize must be positive.");
        if (dataset.Count == 0)
            throw new ArgumentException($"The dataset '{dataset.Name}' is empty.", nameof(dataset));
        var device = options.Device ?? CPU;
        model.to(device);
        model.eval();
        using var loader = new DataLoader(dataset, new DataLoaderOptions { BatchSize = options.BatchSize, Shuffle = false, Device = device, Normalization = options.Normalization });
        using var noGrad = no_grad();
        long offset = 0;
        foreach (var batch in loader.GetBatches(0))
        {
            using var scope = NewDisposeScope();
            step(batch, offset);
            offset += batch.Size;
        }
    }

    /// <summary>Builds the result from probabilities N×K and true labels N (both on the CPU).</summary>
    public static EvaluationResult Summarize(Tensor probabilities, Tensor labels, IReadOnlyList<string> classNames, IReadOnlyList<int>? topK = null, int mistakeCount = 25)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(labels);
        int k = classNames.Count;
        if (probabilities.dim() != 2 || probabilities.shape[1] != k || labels.dim() != 1 || labels.shape[0] != probabilities.shape[0])
            throw new ArgumentException($"Probabilities must be N×{k} and labels N.", nameof(probabilities));
        using var scope = NewDisposeScope();
        long n = labels.shape[0];
        var predicted = probabilities.argmax(1);
        var confusionFlat = labels.mul(k).add(predicted).bincount(null, k * k).to_type(ScalarType.Int64).data<long>().ToArray();
        var confusion = new long[k, k];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                confusion[i, j] = confusionFlat[i * k + j];

        var topKAccuracy = new Dictionary<int, double>();
        foreach (int kk in (topK ?? new[] { 1, 3, 5 }).Distinct().Where(x => x <= k).OrderBy(x => x))
        {
            var top = probabilities.topk(kk, 1).indexes;
            topKAccuracy[kk] = top.eq(labels.unsqueeze(1)).any(1).sum().item<long>() / (double)n;
        }
        double loss = -probabilities.gather(1, labels.unsqueeze(1)).clamp_min(1e-12).log().mean().item<float>();

        var wrong = predicted.ne(labels).nonzero().flatten();
        var mistakes = new List<Mistake>();
        if (wrong.shape[0] > 0 && mistakeCount > 0)
        {
            var confidence = probabilities.index_select(0, wrong).max(1).values;
            var order = confidence.argsort(descending: true).narrow(0, 0, Math.Min(mistakeCount, wrong.shape[0]));
            var idx = wrong.index_select(0, order).data<long>().ToArray();
            var conf = confidence.index_select(0, order).data<float>().ToArray();
            var truth = labels.index_select(0, wrong.index_select(0, order)).data<long>().ToArray();
            var pred = predicted.index_select(0, wrong.index_select(0, order)).data<long>().ToArray();
            for (int i = 0; i < idx.Length; i++)
                mistakes.Add(new Mistake(idx[i], (int)truth[i], (int)pred[i], conf[i]));
        }
        return new EvaluationResult(confusion, classNames, topKAccuracy, loss, mistakes);
    }
}
