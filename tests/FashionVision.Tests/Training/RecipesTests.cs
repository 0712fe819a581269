using FashionVision.Inference;
using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Tests.Training;

/// <summary>The recipe catalogue: lookup, seeds, and that each recipe's parts fit together.</summary>
public class RecipesTests
{
    [Test]
    public void GetFindsEachRecipeByNameIgnoringCase()
    {
        Assert.That(Recipes.Names, Is.EqualTo(new[]
        {
            "fashion-mnist-60s", "fashion-mnist-120s", "fashion-mnist-300s", "mnist-60s", "mnist-120s", "mnist-300s", "fashion-mnist-fast", "mnist",
        }));
        foreach (var name in Recipes.Names)
            Assert.That(Recipes.Get(name.ToUpperInvariant()).Name, Is.EqualTo(name));
    }

    [Test]
    public void AnUnknownRecipeIsRejectedWithTheKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Recipes.Get("cifar-speedrun"))!;
        Assert.That(e.Message, Does.Contain("cifar-speedrun").And.Contain("fashion-mnist-60s, fashion-mnist-120s").And.Contain("fashion-mnist-fast, mnist"));
        Assert.That(e.ParamName, Is.EqualTo("name"));
    }

    [Test]
    public void TheSeedReachesTheOptionsAndTheModel()
    {
        var a = Recipes.Get("mnist", seed: 5);
        Assert.That(a.Options.Seed, Is.EqualTo(5));
        Assert.That(Recipes.Get("mnist").Options.Seed, Is.Zero);
        using var first = a.CreateModel(1, 10);
        using var second = Recipes.Get("mnist", seed: 5).CreateModel(1, 10);
        using var other = Recipes.Get("mnist", seed: 6).CreateModel(1, 10);
        var w1 = first.state_dict().First(kv => kv.Key.EndsWith("weight")).Value;
        Assert.That(w1.equal(second.state_dict().First(kv => kv.Key.EndsWith("weight")).Value).all().item<bool>(), Is.True);
        Assert.That(w1.equal(other.state_dict().First(kv => kv.Key.EndsWith("weight")).Value).all().item<bool>(), Is.False);
    }

    [Test]
    public void EachRecipeBuildsTheZooModelItNamesAndValidOptions()
    {
        foreach (var recipe in Recipes.All)
        {
            Assert.That(recipe.Options.ModelName, Is.EqualTo(ModelZoo.FastCnnName), recipe.Name);
            Assert.DoesNotThrow(() => recipe.Options.Validate(), recipe.Name);
            Assert.That(recipe.AugmentationPreset, recipe.Options.Augmentation is null ? Is.EqualTo("none") : Is.AnyOf("basic", recipe.Options.Augmentation.Describe()), recipe.Name);
            Assert.That(recipe.TestTimeViews, Is.EqualTo(recipe.Tta.IsIdentity ? 1 : 2), recipe.Name + ": plain or flip test-time augmentation");
            using var model = recipe.CreateModel(1, 10);
            Assert.That(model, Is.InstanceOf<FastCnn>(), recipe.Name);
            Assert.That(model.NumClasses, Is.EqualTo(10));
        }
    }

    [TestCase("fashion-mnist", 60, 0.920)]
    [TestCase("fashion-mnist", 120, 0.930)]
    [TestCase("fashion-mnist", 300, 0.940)]
    [TestCase("mnist", 60, 0.995)]
    [TestCase("mnist", 120, 0.996)]
    [TestCase("mnist", 300, 0.997)]
    public void SpeedrunRecipesTrainInBFloat16AgainstTheirBudgetFromAWhitenedStem(string dataset, int seconds, double target)
    {
        var recipe = Recipes.Get($"{dataset}-{seconds}s", seed: 3);
        Assert.That(recipe.Dataset, Is.EqualTo(dataset));
        Assert.That(recipe.Budget, Is.EqualTo(TimeSpan.FromSeconds(seconds)));
        Assert.That(recipe.TargetAccuracy, Is.EqualTo(target));
        Assert.That(recipe.Options.Precision, Is.EqualTo(ComputePrecision.BFloat16));
        Assert.That(recipe.Options.Seed, Is.EqualTo(3));
        Assert.That(recipe.Initialize, Is.Not.Null);
        if (dataset == "mnist")
            Assert.That(recipe.Tta.Views.Any(v => v.HorizontalFlip), Is.False, "mirrored digits are other glyphs");

        using var train = TrainingTestKit.Bars(64);
        using var model = recipe.CreateModel(1, 3);
        recipe.Initialize!(model, train, train.ComputeStatistics());
        var stem = model.modules().OfType<TorchSharp.Modules.Conv2d>().First();
        Assert.That(stem.weight.requires_grad, Is.False, "the whitened stem is frozen");
    }

    [Test]
    public void SpeedrunBudgetsOtherThanTheMeasuredOnesAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Recipes.FashionMnistSpeedrun(90));
        Assert.Throws<ArgumentOutOfRangeException>(() => Recipes.MnistSpeedrun(30));
    }
}
