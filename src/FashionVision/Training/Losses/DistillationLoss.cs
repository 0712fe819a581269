using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Knowledge distillation (Hinton et al. 2015): α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·hard loss,
/// where the hard loss is any <see cref="ClassificationLoss"/> against the true targets.
/// </summary>
/// <remarks>The loss owns its teacher: the one given to the constructor, or else <see cref="TrainerOptions.Teacher"/>, which
/// it takes (moved to the run's device, in eval mode) when a run starts. For every training batch
/// (<see cref="ForwardBatch"/>) it runs the teacher without gradients on the same images as the student. Outside a
/// Trainer, call <see cref="Forward(Tensor, Tensor, Tensor)"/> with the teacher's logits.</remarks>
public sealed class DistillationLoss : ClassificationLoss
{
    private readonly nn.Module<Tensor, Tensor>? _teacher;
    private readonly TeacherBinding _binding;
    private nn.Module<Tensor, Tensor>? _runTeacher;

    /// <summary>Creates the loss.</summary>
    /// <param name="studentLoss">The loss against the true targets (e.g. cross-entropy).</param>
    /// <param name="temperature">The softening temperature T &gt; 0 (typically 2–8).</param>
    /// <param name="alpha">The weight α in [0, 1] of the distillation term.</param>
    /// <param name="teacher">The teacher (null: the run's <see cref="TrainerOptions.Teacher"/>).</param>
    public DistillationLoss(ClassificationLoss studentLoss, double temperature = 4.0, double alpha = 0.5, nn.Module<Tensor, Tensor>? teacher = null)
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
        _teacher = teacher;
        _binding = new TeacherBinding(this);
    }

    /// <summary>The teacher: the constructor's, or the current run's <see cref="TrainerOptions.Teacher"/> once the run has started; null before.</summary>
    public nn.Module<Tensor, Tensor>? Teacher => _teacher ?? _runTeacher;

    /// <inheritdoc />
    public override IReadOnlyList<TrainerCallback> Callbacks => [_binding, .. StudentLoss.Callbacks];

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

    /// <summary>Runs the student and, without gradients, the teacher on the same images, then the combined loss.</summary>
    /// <exception cref="InvalidOperationException">There is no teacher (none given and the run has none).</exception>
    public override (Tensor Logits, Tensor Loss) ForwardBatch(nn.Module<Tensor, Tensor> model, Tensor images, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(model);
        var teacher = Teacher ?? throw new InvalidOperationException(
            "DistillationLoss has no teacher: pass one to its constructor or set TrainerOptions.Teacher.");
        var logits = AsFloat32(model.forward(images));
        Tensor teacherLogits;
        using (no_grad())
            teacherLogits = AsFloat32(teacher.forward(images)).detach();
        return (logits, Forward(logits, targets, teacherLogits));
    }

    /// <summary>Always throws: distillation needs the teacher's logits.</summary>
    protected override Tensor Compute(Tensor logits, Tensor targets) =>
        throw new InvalidOperationException("DistillationLoss needs the teacher's logits: call Forward(logits, targets, teacherLogits) or set TrainerOptions.Teacher.");

    /// <inheritdoc />
    public override string Describe() => $"Distillation(T={Format(Temperature)}, alpha={Format(Alpha)}, student={StudentLoss.Describe()})";

    /// <summary>Takes the run's teacher when a run starts: on the run's device, in eval mode.</summary>
    private sealed class TeacherBinding(DistillationLoss loss) : TrainerCallback
    {
        public override string StateKey => "DistillationTeacher";

        public override void OnFitStart(Trainer trainer)
        {
            var teacher = loss._teacher ?? trainer.Options.Teacher ?? throw new ArgumentException(
                "The loss is a distillation but there is no teacher: set TrainerOptions.Teacher or pass one to DistillationLoss.", nameof(TrainerOptions.Teacher));
            teacher.to(trainer.Device);
            teacher.eval();
            loss._runTeacher = teacher;
        }

        public override void OnFitEnd(Trainer trainer, TrainingHistory history) => loss._runTeacher = null;

        public override void OnException(Trainer trainer, Exception exception) => loss._runTeacher = null;
    }
}
