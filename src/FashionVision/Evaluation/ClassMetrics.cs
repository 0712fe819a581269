namespace FashionVision.Evaluation;

/// <summary>Precision, recall, F1 and support of one class.</summary>
/// <param name="ClassIndex">The class index.</param>
/// <param name="ClassName">The class name.</param>
/// <param name="Precision">TP / (TP + FP); 0 when nothing was predicted as this class.</param>
/// <param name="Recall">TP / (TP + FN); 0 when the class has no samples.</param>
/// <param name="F1">2PR / (P + R); 0 when both are 0.</param>
/// <param name="Support">The number of samples of this class.</param>
public sealed record ClassMetrics(int ClassIndex, string ClassName, double Precision, double Recall, double F1, long Support);

/// <summary>Precision, recall and F1 averaged over classes.</summary>
/// <param name="Precision">The averaged precision.</param>
/// <param name="Recall">The averaged recall.</param>
/// <param name="F1">The averaged F1.</param>
public sealed record AveragedMetrics(double Precision, double Recall, double F1);

/// <summary>A misclassified sample.</summary>
/// <param name="Index">Its position in the evaluated dataset.</param>
/// <param name="TrueClass">The true class.</param>
/// <param name="PredictedClass">The predicted class.</param>
/// <param name="Confidence">The probability given to the predicted class.</param>
public sealed record Mistake(long Index, int TrueClass, int PredictedClass, double Confidence);
