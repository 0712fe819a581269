using FashionVision.Models;

namespace FashionVision.Tests.Models;

/// <summary>The registry itself: names, lookup errors, options, seeds, registering user models.</summary>
public class ModelZooTests
{
    private static readonly string[] BuiltIn =
    {
        "lenet5", "small-cnn", "vgg-cnn", "resnet18", "resnet18-imagenet", "se-resnet18", "cbam-resnet18", "wrn-16-4", "wrn-28-10", "fast-cnn", "mobilenet", "fast-resnet",
    };

    [Test]
    public void NamesStartWithTheBuiltInModelsInOrder()
    {
        Assert.That(ModelZoo.Names.Take(BuiltIn.Length), Is.EqualTo(BuiltIn));
    }

    /// <summary>
    /// A source is a paper with its table or figure, a public benchmark table, or the command that measured the figure here;
    /// "as quoted somewhere" is none of these.
    /// </summary>
    [TestCaseSource(nameof(BuiltIn))]
    public void EveryReferenceResultNamesARemeasurableSource(string name)
    {
        string reference = ModelZoo.GetRegistration(name).ReferenceAccuracy;
        Assert.That(reference, Does.Match(@"\d+(\.\d+)?%"), "a figure");
        var sources = System.Text.RegularExpressions.Regex.Matches(reference,
            @"Table \d+|Fig\. \d+|table '[^']+'|table of [a-z /]+|README, Benchmark table|torchvision model documentation|measured here \d{4}-\d{2}-\d{2}: (dotnet run|fashionvision) [^;)]+");
        Assert.That(sources, Is.Not.Empty, $"{name}: '{reference}' names no paper table, benchmark table or command");
        foreach (string claim in TopLevelParts(reference).Where(part => part.Contains('%')))
            Assert.That(claim, Does.Match(@"\(.+\)$"), $"{name}: every figure carries its source in parentheses");
    }

    // Splits "a (x; y); b (z)" at the semicolons outside parentheses: "a (x; y)", "b (z)".
    private static IEnumerable<string> TopLevelParts(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
            if (text[i] == ';' && depth == 0)
            {
                yield return text[start..i].Trim();
                start = i + 1;
            }
        }
        yield return text[start..].Trim();
    }

    [Test]
    public void UnknownNameThrowsArgumentExceptionListingTheValidNames()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Create("resnet-19"))!;
        Assert.That(e.ParamName, Is.EqualTo("name"));
        Assert.That(e.Message, Does.Contain("resnet-19"));
        foreach (var name in BuiltIn)
            Assert.That(e.Message, Does.Contain(name));
        Assert.Throws<ArgumentException>(() => ModelZoo.Describe("nope"));
    }

    [Test]
    public void LookupIgnoresCaseAndSurroundingSpace()
    {
        using var model = ModelZoo.Create(" LeNet5 ");
        Assert.That(model, Is.InstanceOf<LeNet5>());
        Assert.That(ModelZoo.Contains("SMALL-CNN"), Is.True);
        Assert.That(ModelZoo.Contains("small_cnn"), Is.False);
    }

    [Test]
    public void OptionsReachTheModel()
    {
        using var model = ModelZoo.Create("small-cnn", new ModelOptions { InputChannels = 3, NumClasses = 7, Width = 0.5, Attention = AttentionKind.SqueezeExcitation });
        Assert.That(model.InputChannels, Is.EqualTo(3));
        Assert.That(model.NumClasses, Is.EqualTo(7));
        Assert.That(((SmallCnn)model).FeatureChannels, Is.EqualTo(32));
        Assert.That(model.modules().OfType<SqueezeExcitation>().Count(), Is.EqualTo(2));
        using var output = model.call(zeros(2, 3, 28, 28));
        Assert.That(output.shape, Is.EqualTo(new long[] { 2, 7 }));
    }

    [Test]
    public void ResNet18ImageNetDefaultsToRgbAndAThousandClasses()
    {
        Assert.That(ModelZoo.DefaultOptions("resnet18-imagenet"), Is.EqualTo(new ModelOptions { InputChannels = 3, NumClasses = 1000 }));
        Assert.That(ModelZoo.DefaultOptions("resnet18"), Is.EqualTo(new ModelOptions()));
    }

    [Test]
    public void AttentionVariantsUseTheirAttentionEverywhere()
    {
        using var se = ModelZoo.Create("se-resnet18");
        using var cbam = ModelZoo.Create("cbam-resnet18");
        Assert.That(se.modules().OfType<BasicBlock>().Select(b => b.Attention), Is.All.InstanceOf<SqueezeExcitation>());
        Assert.That(cbam.modules().OfType<BasicBlock>().Select(b => b.Attention), Is.All.InstanceOf<Cbam>());
        Assert.That(se.modules().OfType<BasicBlock>().Count(), Is.EqualTo(8));
    }

    [Test]
    public void OptionsAModelCannotHonourAreRejected()
    {
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", new ModelOptions { Width = 2 }));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("lenet5", new ModelOptions { Attention = AttentionKind.Cbam }));
        Assert.Throws<ArgumentException>(() => ModelZoo.Create("se-resnet18", new ModelOptions { Attention = AttentionKind.Cbam }));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("resnet18", new ModelOptions { NumClasses = 0 }))!;
        Assert.That(e.Message, Does.Contain("NumClasses"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { DropRate = 1.0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("mobilenet", new ModelOptions { Width = double.NaN }));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelZoo.Create("small-cnn", new ModelOptions { InputChannels = -1 }));
    }

    [Test]
    public void SameSeedGivesSameWeightsAndDifferentSeedsDiffer()
    {
        using var a = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 7 });
        using var b = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 7 });
        using var c = ModelZoo.Create("small-cnn", new ModelOptions { Seed = 8 });
        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        var pc = c.parameters().ToList();
        Assert.That(Enumerable.Range(0, pa.Count).All(i => pa[i].Identical(pb[i])), Is.True);
        Assert.That(pa[0].Identical(pc[0]), Is.False);
    }

    [Test]
    public void DescribeAllListsEveryModelInOrder()
    {
        var table = ModelZoo.DescribeAll();
        Assert.That(table.Select(i => i.Name), Is.EqualTo(ModelZoo.Names.Take(table.Count)));
        Assert.That(table.Single(i => i.Name == "resnet18-imagenet").ParameterCount, Is.EqualTo(11_689_512));
        Assert.That(table.Single(i => i.Name == "mobilenet").FlopsPerImage, Is.LessThan(table.Single(i => i.Name == "resnet18").FlopsPerImage / 10));
    }

    [Test]
    public void DescribeHasNoSideEffectOnTheGlobalGenerator()
    {
        manual_seed(3);
        using var expected = rand(4);
        manual_seed(3);
        ModelZoo.Describe("lenet5", new ModelOptions { NumClasses = 3 });
        using var actual = rand(4);
        Assert.That(actual.Identical(expected), Is.True);
    }

    [Test]
    public void UsersRegisterTheirOwnModels()
    {
        string name = "user-net-" + Guid.NewGuid().ToString("N")[..8];
        ModelZoo.Register(name, o => new LeNet5(o.InputChannels, o.NumClasses), "LeNet-5 under another name", "n/a",
            new ModelOptions { NumClasses = 4 });
        Assert.That(ModelZoo.Names, Does.Contain(name));
        using var model = ModelZoo.Create(name);
        Assert.That(model.NumClasses, Is.EqualTo(4));
        var info = ModelZoo.Describe(name);
        Assert.That(info.ParameterCount, Is.EqualTo(61_706 - 6 * 84 - 6));
        Assert.That(info.Summary, Is.EqualTo("LeNet-5 under another name"));

        Assert.Throws<ArgumentException>(() => ModelZoo.Register(name, o => new LeNet5(), "again"));
        Assert.Throws<ArgumentException>(() => ModelZoo.Register("Bad_Name", o => new LeNet5(), "bad"));
        Assert.Throws<ArgumentException>(() => ModelZoo.Register("bad--name", o => new LeNet5(), "bad"));
        string liar = "liar-" + Guid.NewGuid().ToString("N")[..8];
        ModelZoo.Register(liar, o => new LeNet5(1, 10), "ignores its options");
        Assert.Throws<InvalidOperationException>(() => ModelZoo.Create(liar, new ModelOptions { NumClasses = 5 }));
    }
}
