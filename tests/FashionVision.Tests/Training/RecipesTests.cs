using FashionVision.Models;
using FashionVision.Training;

namespace FashionVision.Tests.Training;

/// <summary>The recipe catalogue: lookup, seeds, and that each recipe's parts fit together.</summary>
public class RecipesTests
{
    [Test]
    public void GetFindsEachRecipeByNameIgnoringCase()
    {
        Assert.That(Recipes.Names, Is.EqualTo(new[] { "fashion-mnist-fast", "mnist" }));
        foreach (var name in Recipes.Names)
            Assert.That(Recipes.Get(name.ToUpperInvariant()).Name, Is.EqualTo(name));
    }

    [Test]
    public void AnUnknownRecipeIsRejectedWithTheKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => Recipes.Get("cifar-speedrun"))!;
        Assert.That(e.Message, Does.Contain("cifar-speedrun").And.Contain("fashion-mnist-fast, mnist"));
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
            Assert.That(recipe.AugmentationPreset, Is.EqualTo(recipe.Options.Augmentation is null ? "none" : "basic"), recipe.Name);
            using var model = recipe.CreateModel(1, 10);
            Assert.That(model, Is.InstanceOf<FastCnn>(), recipe.Name);
            Assert.That(model.NumClasses, Is.EqualTo(10));
        }
    }
}
