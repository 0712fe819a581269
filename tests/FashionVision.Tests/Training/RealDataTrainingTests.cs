using FashionVision.Data;
using FashionVision.Evaluation;
using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Tests.Training;

/// <summary>The whole vertical slice on a real Fashion-MNIST subset: data → zoo model → Trainer → Evaluator.</summary>
public class RealDataTrainingTests
{
    [Test]
    public void FastCnnLearnsAFashionMnistSubset()
    {
        var source = new FashionMnistSource();
        if (source.Locate() is null)
            Assert.Ignore("Fashion-MNIST is not installed here (eng/setup.sh).");
        using var all = source.Load(DatasetSplit.Train);
        using var subset = all.Take(1200);
        var (train, validation) = subset.SplitStratified(0.25, seed: 1);
        using var _ = train;
        using var __ = validation;
        using var model = ModelZoo.Create(ModelZoo.FastCnnName, new ModelOptions { Width = 0.5, Seed = 1 });
        var recipe = Recipes.FashionMnistFast();
        using var trainer = new Trainer(model, recipe.TrainerOptions() with { Epochs = 4, BatchSize = 32, Precision = ComputePrecision.Float32 });
        var history = trainer.Fit(train);
        var result = Evaluator.Evaluate(model, validation, new EvaluatorOptions { Normalization = trainer.Normalization, Tta = TestTimeAugmentation.HorizontalFlip });
        Assert.That(history.Epochs, Has.Count.EqualTo(4));
        Assert.That(result.Accuracy, Is.GreaterThan(0.7), result.ToReport());
        Assert.That(result.Count, Is.EqualTo(300));
    }
}
