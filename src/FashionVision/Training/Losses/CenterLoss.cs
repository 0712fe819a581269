using FashionVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FashionVision.Training;

/// <summary>
/// Center loss (Wen et al., "A Discriminative Feature Learning Approach for Deep Face Recognition", ECCV 2016): a
/// classification loss plus λ times the mean half squared distance of each embedding to its class's center,
/// <c>L = L_cls + λ·(1/N)·Σᵢ ½‖xᵢ − c_yᵢ‖²</c>, which pulls each class into a tight cluster (Shirt and T-shirt/top apart).
/// </summary>
/// <remarks>
/// <para>The centers are not trained by the optimizer: as in the paper (Algorithm 1), every training call moves them towards
/// the batch's embeddings of their class, <c>c_j ← c_j − α·Σᵢ δ(yᵢ = j)(c_j − xᵢ) / (1 + Σᵢ δ(yᵢ = j))</c>, and the loss's
/// gradient reaches the embeddings only. They start at zero, live on the embeddings' device, and the <see cref="Trainer"/>
/// keeps them in checkpoints (through <see cref="ClassificationLoss.Callbacks"/>), so a resumed run continues exactly.</para>
/// <para>Soft targets t (Mixup, CutMix) weight the classes: the distance is to the mixture <c>Σₖ tₖ·c_k</c> plus the spread
/// <c>Σₖ tₖ‖c_k‖² − ‖Σₖ tₖ c_k‖²</c> (so the value is <c>Σₖ tₖ·½‖x − c_k‖²</c>), and δ becomes t in the update.</para>
/// <para>Centers are only updated while gradients are enabled (training), never in evaluation.</para>
/// </remarks>
public sealed class CenterLoss : EmbeddingLoss
{
    private readonly CentersState _state;
    private Tensor? _centers;

    /// <summary>Creates the loss.</summary>
    /// <param name="classificationLoss">The loss on the logits (cross-entropy in the paper).</param>
    /// <param name="weight">λ ≥ 0, the weight of the center term (the paper uses 0.003–0.01 for faces; the right value depends on the embedding's scale).</param>
    /// <param name="centerLearningRate">α in (0, 1], how far the centers move per batch (0.5 in the paper).</param>
    public CenterLoss(ClassificationLoss classificationLoss, double weight = 0.01, double centerLearningRate = 0.5)
    {
        ArgumentNullException.ThrowIfNull(classificationLoss);
        if (classificationLoss is EmbeddingLoss or DistillationLoss)
            throw new ArgumentException("The classification loss of center loss must read logits and targets only.", nameof(classificationLoss));
        if (!(weight >= 0) || double.IsInfinity(weight))
            throw new ArgumentOutOfRangeException(nameof(weight), weight, "The center-loss weight λ must be finite and non-negative.");
        if (!(centerLearningRate > 0 && centerLearningRate <= 1))
            throw new ArgumentOutOfRangeException(nameof(centerLearningRate), centerLearningRate, "The center learning rate α must be in (0, 1].");
        ClassificationLoss = classificationLoss;
        Weight = weight;
        CenterLearningRate = centerLearningRate;
        _state = new CentersState(this);
    }

    /// <summary>The loss on the logits.</summary>
    public ClassificationLoss ClassificationLoss { get; }

    /// <summary>λ, the weight of the center term.</summary>
    public double Weight { get; }

    /// <summary>α, the step of the center update.</summary>
    public double CenterLearningRate { get; }

    /// <summary>The class centers K×D (a copy on the CPU), or null before the first training batch.</summary>
    public Tensor? Centers => _centers?.detach().cpu().clone();

    /// <inheritdoc />
    public override IReadOnlyList<TrainerCallback> Callbacks => [_state];

    /// <summary>The center term alone, <c>(1/N)·Σᵢ Σₖ tᵢₖ·½‖xᵢ − c_k‖²</c>, for embeddings and targets (no update).</summary>
    /// <param name="embeddings">Embeddings N×D.</param>
    /// <param name="targets">Class indices or soft targets for <paramref name="numClasses"/> classes.</param>
    /// <param name="numClasses">The class count K.</param>
    public Tensor CenterTerm(Tensor embeddings, Tensor targets, long numClasses)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(targets);
        using var scope = NewDisposeScope();
        var centers = CentersFor(numClasses, embeddings);
        var weights = IsSoft(targets) ? targets.to_type(embeddings.dtype) : nn.functional.one_hot(targets, numClasses).to_type(embeddings.dtype);
        var mixture = weights.matmul(centers);
        var spread = weights.matmul(centers.square().sum(1)) - mixture.square().sum(1);
        var term = (embeddings - mixture).square().sum(1).add(spread).mean().mul(0.5);
        return scope.MoveToOuter(term);
    }

    /// <inheritdoc />
    protected override Tensor Compute(Tensor logits, Tensor embeddings, Tensor targets)
    {
        using var scope = NewDisposeScope();
        long classes = logits.shape[1];
        var loss = ClassificationLoss.Forward(logits, targets);
        if (Weight > 0)
            loss = loss.add(CenterTerm(embeddings, targets, classes).mul(Weight));
        if (is_grad_enabled())
            UpdateCenters(embeddings, targets, classes);
        return scope.MoveToOuter(loss);
    }

    private void UpdateCenters(Tensor embeddings, Tensor targets, long numClasses)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var centers = CentersFor(numClasses, embeddings);
        var x = embeddings.detach();
        var weights = IsSoft(targets) ? targets.to_type(x.dtype) : nn.functional.one_hot(targets, numClasses).to_type(x.dtype);
        var counts = weights.sum(dim: 0);                              // K (a bare 0 would bind to sum(ScalarType))
        var delta = (centers * counts.unsqueeze(1) - weights.t().matmul(x)).div_(counts.add(1).unsqueeze(1));
        centers.sub_(delta.mul_(CenterLearningRate));
    }

    private Tensor CentersFor(long numClasses, Tensor embeddings)
    {
        long dimension = embeddings.shape[1];
        if (_centers is null || _centers.shape[0] != numClasses || _centers.shape[1] != dimension)
        {
            if (_centers is not null && _state.Restored)
                throw new ArgumentException(
                    $"The checkpoint's centers are {_centers.shape[0]}×{_centers.shape[1]} but the model gives {numClasses} classes and {dimension}-wide embeddings.", nameof(embeddings));
            Reset();
            _centers = zeros(new[] { numClasses, dimension }, embeddings.dtype, embeddings.device).DetachFromDisposeScope();
        }
        else if (_centers.device != embeddings.device || _centers.dtype != embeddings.dtype)
        {
            var moved = _centers.to(embeddings.dtype, embeddings.device).DetachFromDisposeScope();
            _centers.Dispose();
            _centers = moved;
        }
        return _centers;
    }

    private void Reset()
    {
        _centers?.Dispose();
        _centers = null;
    }

    /// <inheritdoc />
    public override string Describe() =>
        $"CenterLoss(weight={Format(Weight)}, center_lr={Format(CenterLearningRate)}, classification={ClassificationLoss.Describe()})";

    /// <summary>Checks the model when a run starts, and keeps the centers in checkpoints.</summary>
    private sealed class CentersState(CenterLoss loss) : TrainerCallback
    {
        public bool Restored { get; private set; }

        public override string StateKey => "CenterLoss";

        public override void OnFitStart(Trainer trainer)
        {
            loss.RequireImageClassifier(trainer.Model);
            if (!Restored)
                loss.Reset();   // a fresh run starts from zero centers
        }

        public override void OnFitEnd(Trainer trainer, TrainingHistory history) => Restored = false;

        public override void OnException(Trainer trainer, Exception exception) => Restored = false;

        public override void OnSaveCheckpoint(Trainer trainer, CallbackState state)
        {
            if (loss._centers is { } centers)
                state.SetTensors("centers", new Dictionary<string, Tensor> { ["centers"] = centers });
        }

        public override void OnLoadCheckpoint(Trainer trainer, CallbackState state)
        {
            var saved = state.GetTensors("centers");
            if (saved is null || !saved.TryGetValue("centers", out var centers))
                return;
            loss.Reset();
            loss._centers = centers.DetachFromDisposeScope();
            Restored = true;
        }
    }
}
