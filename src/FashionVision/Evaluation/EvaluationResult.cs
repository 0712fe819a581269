using System.Globalization;
using System.Text;

namespace FashionVision.Evaluation;

/// <summary>
/// Everything an evaluation measured: accuracy, top-k accuracy, loss, per-class precision/recall/F1/support with macro
/// and weighted averages, the confusion matrix (rows = true class, columns = predicted class) and the most confident mistakes.
/// </summary>
public sealed class EvaluationResult
{
    private readonly long[,] _confusion;

    /// <summary>Builds the result from a confusion matrix (rows true, columns predicted); the other metrics derive from it.</summary>
    /// <param name="confusionMatrix">K×K counts.</param>
    /// <param name="classNames">K class names.</param>
    /// <param name="topKAccuracy">Top-k accuracies by k (optional).</param>
    /// <param name="loss">The mean cross-entropy (optional).</param>
    /// <param name="mistakes">The most confident mistakes (optional).</param>
    public EvaluationResult(long[,] confusionMatrix, IReadOnlyList<string> classNames,
        IReadOnlyDictionary<int, double>? topKAccuracy = null, double? loss = null, IReadOnlyList<Mistake>? mistakes = null)
    {
        ArgumentNullException.ThrowIfNull(confusionMatrix);
        ArgumentNullException.ThrowIfNull(classNames);
        int k = classNames.Count;
        if (k == 0 || confusionMatrix.GetLength(0) != k || confusionMatrix.GetLength(1) != k)
            throw new ArgumentException($"The confusion matrix must be {k}×{k} for {k} class names.", nameof(confusionMatrix));
        _confusion = (long[,])confusionMatrix.Clone();
        ClassNames = classNames.ToArray();
        TopKAccuracy = topKAccuracy ?? new Dictionary<int, double>();
        Loss = loss;
        Mistakes = mistakes ?? Array.Empty<Mistake>();

        long total = 0, diagonal = 0;
        var perClass = new ClassMetrics[k];
        for (int c = 0; c < k; c++)
        {
            long tp = _confusion[c, c], support = 0, predicted = 0;
            for (int j = 0; j < k; j++)
            {
                support += _confusion[c, j];
                predicted += _confusion[j, c];
                if (_confusion[c, j] < 0)
                    throw new ArgumentException("Confusion counts cannot be negative.", nameof(confusionMatrix));
            }
            double precision = predicted == 0 ? 0 : tp / (double)predicted;
            double recall = support == 0 ? 0 : tp / (double)support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass[c] = new ClassMetrics(c, ClassNames[c], precision, recall, f1, support);
            total += support;
            diagonal += tp;
        }
        PerClass = perClass;
        Count = total;
        Accuracy = total == 0 ? 0 : diagonal / (double)total;
        MacroAverage = new AveragedMetrics(perClass.Average(m => m.Precision), perClass.Average(m => m.Recall), perClass.Average(m => m.F1));
        WeightedAverage = total == 0
            ? new AveragedMetrics(0, 0, 0)
            : new AveragedMetrics(
                perClass.Sum(m => m.Precision * m.Support) / total,
                perClass.Sum(m => m.Recall * m.Support) / total,
                perClass.Sum(m => m.F1 * m.Support) / total);
    }

    /// <summary>The class names.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The number of samples evaluated.</summary>
    public long Count { get; }

    /// <summary>Top-1 accuracy in [0, 1].</summary>
    public double Accuracy { get; }

    /// <summary>Top-k accuracies by k (e.g. 5 → top-5 accuracy).</summary>
    public IReadOnlyDictionary<int, double> TopKAccuracy { get; }

    /// <summary>The mean cross-entropy of the (averaged) predictions, or null.</summary>
    public double? Loss { get; }

    /// <summary>Per-class metrics, in class order.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>The unweighted mean over classes.</summary>
    public AveragedMetrics MacroAverage { get; }

    /// <summary>The mean over classes weighted by support.</summary>
    public AveragedMetrics WeightedAverage { get; }

    /// <summary>The most confident mistakes, most confident first.</summary>
    public IReadOnlyList<Mistake> Mistakes { get; }

    /// <summary>A copy of the confusion matrix: [true class, predicted class].</summary>
    public long[,] ConfusionMatrix => (long[,])_confusion.Clone();

    /// <summary>The count of samples of class <paramref name="trueClass"/> predicted as <paramref name="predictedClass"/>.</summary>
    public long this[int trueClass, int predictedClass] => _confusion[trueClass, predictedClass];

    /// <summary>The off-diagonal pairs with the most confusions (true, predicted, count), largest first.</summary>
    public IReadOnlyList<(int TrueClass, int PredictedClass, long Count)> MostConfusedPairs(int count = 5)
    {
        int k = ClassNames.Count;
        var pairs = new List<(int, int, long)>();
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
                if (i != j && _confusion[i, j] > 0)
                    pairs.Add((i, j, _confusion[i, j]));
        return pairs.OrderByDescending(p => p.Item3).ThenBy(p => p.Item1).ThenBy(p => p.Item2).Take(count).ToList();
    }

    /// <summary>
    /// The confusion matrix restricted to <paramref name="classes"/>, in the order given: entry [i, j] counts the samples of
    /// class <c>classes[i]</c> predicted as <c>classes[j]</c> (e.g. Fashion-MNIST's Shirt, T-shirt/top, Pullover and Coat,
    /// <see cref="Data.FashionMnistSource.UpperBodyClasses"/>).
    /// </summary>
    /// <param name="classes">Distinct class indices.</param>
    /// <exception cref="ArgumentException">No classes, an index out of range, or a repeated class.</exception>
    public long[,] ConfusionAmong(params int[] classes)
    {
        CheckClasses(classes);
        var sub = new long[classes.Length, classes.Length];
        for (int i = 0; i < classes.Length; i++)
            for (int j = 0; j < classes.Length; j++)
                sub[i, j] = _confusion[classes[i], classes[j]];
        return sub;
    }

    /// <summary>The confusion matrix restricted to the classes named <paramref name="classNames"/> (see <see cref="ConfusionAmong(int[])"/>).</summary>
    /// <param name="classNames">Distinct names from <see cref="ClassNames"/>.</param>
    /// <exception cref="ArgumentException">A name is not one of <see cref="ClassNames"/>, or is repeated.</exception>
    public long[,] ConfusionAmong(params string[] classNames) => ConfusionAmong(IndicesOf(classNames));

    /// <summary>
    /// The confusion among a few classes as a text table: one row per true class, one column per predicted class of the
    /// group, then <c>other</c> (predicted as any class outside the group) and the recall.
    /// </summary>
    /// <param name="classNames">Distinct names from <see cref="ClassNames"/>.</param>
    /// <exception cref="ArgumentException">A name is not one of <see cref="ClassNames"/>, or is repeated.</exception>
    public string ConfusionTable(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var indices = IndicesOf(classNames);
        var ci = CultureInfo.InvariantCulture;
        const string corner = "true \\ predicted";
        int first = Math.Max(corner.Length, classNames.Max(n => n.Length));
        int col = Math.Max(8, classNames.Max(n => n.Length));
        var sb = new StringBuilder();
        sb.Append(corner.PadLeft(first));
        foreach (var name in classNames)
            sb.Append(' ').Append(name.PadLeft(col));
        sb.Append(' ').Append("other".PadLeft(col)).Append(' ').Append("recall".PadLeft(col)).Append('\n');
        foreach (int t in indices)
        {
            sb.Append(ClassNames[t].PadLeft(first));
            long inGroup = 0;
            foreach (int p in indices)
            {
                sb.Append(' ').Append(_confusion[t, p].ToString(ci).PadLeft(col));
                inGroup += _confusion[t, p];
            }
            sb.Append(' ').Append((PerClass[t].Support - inGroup).ToString(ci).PadLeft(col));
            sb.Append(' ').Append(PerClass[t].Recall.ToString("F3", ci).PadLeft(col)).Append('\n');
        }
        return sb.ToString();
    }

    private int[] IndicesOf(IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var indices = new int[classNames.Count];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = Array.IndexOf(ClassNames.ToArray(), classNames[i]);
            if (indices[i] < 0)
                throw new ArgumentException($"'{classNames[i]}' is not a class of this result ({string.Join(", ", ClassNames)}).", nameof(classNames));
        }
        CheckClasses(indices);
        return indices;
    }

    private void CheckClasses(int[] classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Length == 0)
            throw new ArgumentException("At least one class is needed.", nameof(classes));
        if (classes.Any(c => c < 0 || c >= ClassNames.Count))
            throw new ArgumentException($"Class indices must be in [0, {ClassNames.Count}).", nameof(classes));
        if (classes.Distinct().Count() != classes.Length)
            throw new ArgumentException("The classes must be distinct.", nameof(classes));
    }

    /// <summary>A text report laid out like scikit-learn's <c>classification_report</c>.</summary>
    public string ToReport(int digits = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(digits);
        var ci = CultureInfo.InvariantCulture;
        string f = "F" + digits.ToString(ci);
        int width = Math.Max("weighted avg".Length, ClassNames.Max(n => n.Length));
        int col = Math.Max(digits + 3, 9);
        var sb = new StringBuilder();
        string Cell(string s) => " " + s.PadLeft(col);
        sb.Append(new string(' ', width + 1)).Append(Cell("precision")).Append(Cell("recall")).Append(Cell("f1-score")).Append(Cell("support")).Append("\n\n");
        foreach (var m in PerClass)
            sb.Append(m.ClassName.PadLeft(width)).Append(' ').Append(Cell(m.Precision.ToString(f, ci))).Append(Cell(m.Recall.ToString(f, ci)))
              .Append(Cell(m.F1.ToString(f, ci))).Append(Cell(m.Support.ToString(ci))).Append('\n');
        sb.Append('\n');
        sb.Append("accuracy".PadLeft(width)).Append(' ').Append(Cell("")).Append(Cell("")).Append(Cell(Accuracy.ToString(f, ci))).Append(Cell(Count.ToString(ci))).Append('\n');
        void Avg(string name, AveragedMetrics a) =>
            sb.Append(name.PadLeft(width)).Append(' ').Append(Cell(a.Precision.ToString(f, ci))).Append(Cell(a.Recall.ToString(f, ci)))
              .Append(Cell(a.F1.ToString(f, ci))).Append(Cell(Count.ToString(ci))).Append('\n');
        Avg("macro avg", MacroAverage);
        Avg("weighted avg", WeightedAverage);
        return sb.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"accuracy {Accuracy:P2} on {Count} images" + (TopKAccuracy.Count == 0 ? "" : ", " + string.Join(", ", TopKAccuracy.OrderBy(kv => kv.Key).Select(kv => $"top-{kv.Key} {kv.Value:P2}")));
}
