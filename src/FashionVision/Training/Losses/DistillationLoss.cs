using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Knowledge distillation (Hinton et al. 2015): α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·hard loss,
/// where the hard loss is any <see cref="ClassificationLoss"/> against the true targets.
/// </summary>
/// <remarks>The Trainer computes the teacher's logits (in eval mode, without gradients) when
/// <see cref="TrainerOptions.Teacher"/> is set; call <see cref="Forward(Tensor, Tensor, Tensor)"/> yourself otherwise.</remarks>
public sealed class DistillationLoss : ClassificationLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="studentLoss">The loss against the true targets (e.g. cross-entropy).</param>
    /// <param name="temperature">The softening temperature T &gt; 0 (typically 2–8).</param>
    /// <param name="alpha">The weight α in [0, 1] of the distillation term.</param>
    public DistillationLoss(ClassificationLoss studentLoss, double temperature = 4.0, double alpha = 0.5)
    {
        ArgumentNullException.ThrowIfNull(studentLoss);
        if (studentLoss is DistillationLoss)
            throw new ArgumentException("The student loss cannot itself be a distillation loss.", nameof(studentLoss));
        if (!(temperature > 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be finite and positive.");
        if (!(alpha >= 0 && alpha <= 1))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Alpha must be in [0, 1].");
        StudentLoss = studentLoss;
        Temperature = temperature;
        Alpha = alpha;
    }

    /// <summary>The loss against the true targets.</summary>
    public ClassificationLoss StudentLoss { get; }

    /// <summary>The temperature T.</summary>
    public double Temperature { get; }

    /// <summary>The weight α of the distillation term.</summary>
    public double Alpha { get; }

    /// <summary>Computes the combined loss.</summary>
    /// <param name="logits">Student logits N×K.</param>
    /// <param name="targets">True targets, hard (N) or soft (N×K).</param>
    /// <param name="teacherLogits">Teacher logits N×K (gradients are not propagated into them).</param>
    public Tensor Forward(Tensor logits, Tensor targets, Tensor teacherLogits)
    {
        CheckShapes(logits, targets);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (teacherLogits.dim() != 2 || teacherLogits.shape[0] != logits.shape[0] || teacherLogits.shape[1] != logits.shape[1])
            throw new ArgumentException($"Teacher logits [{string.Join(", ", teacherLogits.shape)}] do not match student logits [{string.Join(", ", logits.shape)}].", nameof(teacherLogits));
        using var scope = NewDisposeScope();
        var studentLogp = nn.functional.log_softmax(logits.div(Temperature), 1);
        var teacherLogp = nn.functional.log_softmax(teacherLogits.detach().div(Temperature), 1);
        // KL(p_t ‖ p_s) per sample = Σ p_t (log p_t − log p_s); batch mean.
        var kl = teacherLogp.exp().mul(teacherLogp.sub(studentLogp)).sum(1).mean();
        var loss = kl.mul(Alpha * Temperature * Temperature);
        if (Alpha < 1)
            loss = loss.add(StudentLoss.Forward(logits, targets).mul(1 - Alpha));
        return scope.MoveToOuter(loss);
    }

    /// <summary>Always throws: distillation needs the teacher's logits.</summary>
    protected override Tensor Compute(Tensor logits, Tensor targets) =>
        throw new InvalidOperationException("DistillationLoss needs the teacher's logits: call Forward(logits, targets, teacherLogits) or set TrainerOptions.Teacher.");

    /// <inheritdoc />
    public override string Describe() => $"Distillation(T={Format(Temperature)}, alpha={Format(Alpha)}, student={StudentLoss.Describe()})";
}
