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
        Assert.That(a.Spec.Training.Seed, Is.EqualTo(5));
        Assert.That(Recipes.Get("mnist").Spec.Training.Seed, Is.Zero);
        using var first = a.CreateModel(1, 10);
        using var second = Recipes.Get("mnist", seed: 5).CreateModel(1, 10);
        using var other = Recipes.Get("mnist", seed: 6).CreateModel(1, 10);
        var w1 = first.state_dict().First(kv => kv.Key.EndsWith("weight")).Value;
        Assert.That(w1.equal(second.state_dict().First(kv => kv.Key.EndsWith("weight")).Value).all().item<bool>(), Is.True);
        Assert.That(w1.equal(other.state_dict().First(kv => kv.Key.EndsWith("weight")).Value).all().item<bool>(), Is.False);
    }

    [Test]
    public void EachRecipeIsAValidSpecOfTheZooModelItNames()
    {
        foreach (var recipe in Recipes.All)
        {
            Assert.That(recipe.Spec.Model.Name, Is.EqualTo(ModelZoo.FastCnnName), recipe.Name);
            Assert.That(recipe.Spec.Recipe, Is.EqualTo(recipe.Name));
            Assert.DoesNotThrow(() => recipe.Spec.Validate(), recipe.Name);
            Assert.DoesNotThrow(() => recipe.TrainerOptions().Validate(), recipe.Name);
            Assert.That(recipe.Spec.Training.Precision, Is.EqualTo(ComputePrecision.Auto), recipe.Name + ": every recipe lets the machine choose");
            Assert.That(recipe.TestTimeViews, Is.EqualTo(recipe.Tta.IsIdentity ? 1 : 2), recipe.Name + ": plain or flip test-time augmentation");
            Assert.That(RunSpec.Parse(recipe.Spec.ToJson()), Is.EqualTo(recipe.Spec).Using<RunSpec>((a, b) => a.ToJson() == b.ToJson()), recipe.Name + ": the JSON round trip");
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
    public void SpeedrunRecipesTrainAgainstTheirBudgetFromAWhitenedStemAtTheWidthOfTheirPrecision(string dataset, int seconds, double target)
    {
        var recipe = Recipes.Get($"{dataset}-{seconds}s", seed: 3);
        Assert.That(recipe.Dataset, Is.EqualTo(dataset));
        Assert.That(recipe.Budget, Is.EqualTo(TimeSpan.FromSeconds(seconds)));
        Assert.That(recipe.TargetAccuracy, Is.EqualTo(target));
        Assert.That(recipe.Spec.Training.Seed, Is.EqualTo(3));
        Assert.That(recipe.Spec.Model.WhitenStem, Is.True);
        Assert.That(recipe.Spec.Data.ValidationSplit, Is.Zero, "a speedrun trains on every training image");
        if (dataset == "mnist")
            Assert.That(recipe.Tta.Views.Any(v => v.HorizontalFlip), Is.False, "mirrored digits are other glyphs");

        Assert.That(Recipes.Get(recipe.Name, precision: ComputePrecision.BFloat16).Spec.Model.Width, Is.EqualTo(1.0), "bfloat16: full width");
        Assert.That(Recipes.Get(recipe.Name, precision: ComputePrecision.Float32).Spec.Model.Width, Is.EqualTo(0.5), "float32: half width");
        Assert.That(recipe.Spec.Model.Width, Is.EqualTo(Recipes.SpeedrunWidth(ComputePrecision.Auto)), "Auto: the width of what this machine resolves");
    }

    [Test]
    public void SpeedrunBudgetsOtherThanTheMeasuredOnesAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Recipes.FashionMnistSpeedrun(90));
        Assert.Throws<ArgumentOutOfRangeException>(() => Recipes.MnistSpeedrun(30));
    }
}
