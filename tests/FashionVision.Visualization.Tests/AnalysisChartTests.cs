using FashionVision.Evaluation;
using FashionVision.Training;
using ScottPlot;
using SkiaSharp;

namespace FashionVision.Visualization.Tests;

/// <summary>The pictures of the analysis toolbox: the t-SNE scatter, the ablation bars and the grid of label issues.</summary>
public class AnalysisChartTests
{
    private static SKColor Skia(Color c) => new(c.R, c.G, c.B);

    [Test]
    public void EmbeddingScatter_ColoursEachClassAndNamesItsScoreInTheLegend()
    {
        // Three tight clusters: class 0 around (0, 0), class 1 around (10, 0), class 2 around (5, 8).
        using var g = new Generator(1);
        using var centres = tensor(new float[] { 0, 0, 10, 0, 5, 8 }, new long[] { 3, 2 });
        using var labels = arange(3, dtype: ScalarType.Int64).repeat_interleave(40);
        using var points = centres.index_select(0, labels).add(randn(new long[] { 120, 2 }, generator: g).mul(0.2));

        using var plot = EmbeddingScatter.Build(points, labels, ["a", "b", "c"], [0.91, 0.5, -0.25], "silhouette");
        using var bitmap = TestSupport.DecodePng(ChartRendering.RenderPng([plot], 800, 600, null));

        Assert.That(plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Select(s => s.LegendText),
            Is.EqualTo(new[] { "a (silhouette 0.91)", "b (silhouette 0.50)", "c (silhouette -0.25)" }));
        for (int c = 0; c < 3; c++)
        {
            var centre = plot.GetPixel(new Coordinates(centres[c, 0].item<float>(), centres[c, 1].item<float>()));
            var area = new SKRectI((int)centre.X - 12, (int)centre.Y - 12, (int)centre.X + 12, (int)centre.Y + 12);
            Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[c]), area, 30), Is.GreaterThan(40), $"class {c} is drawn in its colour at its centre");
            Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[(c + 1) % 3]), area, 30), Is.Zero, $"no other class at class {c}'s centre");
        }

        var path = Path.Combine(TestSupport.OutputFolder(), "tsne.png");
        EmbeddingScatter.SavePng(points, labels, ["a", "b", "c"], path);
        using var saved = TestSupport.DecodePngFile(path);
        Assert.That((saved.Width, saved.Height), Is.EqualTo((900, 760)));
    }

    [Test]
    public void EmbeddingScatter_BadInput_Throws()
    {
        using var points = zeros(4, 2);
        using var labels = tensor(new long[] { 0, 1, 2, 0 });
        using var threeD = zeros(4, 3);
        Assert.Multiple(() =>
        {
            Assert.That(() => EmbeddingScatter.RenderPng(threeD, labels, ["a", "b", "c"]), Throws.ArgumentException.With.Property("ParamName").EqualTo("points"));
            Assert.That(() => EmbeddingScatter.RenderPng(points, labels, ["a", "b"]), Throws.ArgumentException.With.Property("ParamName").EqualTo("labels"));
            Assert.That(() => EmbeddingScatter.RenderPng(points, labels, ["a", "b", "c"], classScores: [1.0]), Throws.ArgumentException.With.Property("ParamName").EqualTo("classScores"));
        });
    }

    private static AblationResult Ablation()
    {
        AblationRow Row(int step, string name, double a, double b, double seconds) => new(step, name, null, new RunSpec(),
            [new AblationRun(0, a, a, TimeSpan.FromSeconds(seconds)), new AblationRun(1, b, b, TimeSpan.FromSeconds(seconds))]);
        return new AblationResult("test", [0, 1], [Row(0, "baseline", 0.880, 0.882, 10), Row(1, "+ augmentation", 0.886, 0.890, 12), Row(2, "+ worse", 0.870, 0.870, 30)]);
    }

    [Test]
    public void AblationChart_BarsFollowTheMeansAndALossIsRed()
    {
        var result = Ablation();
        using var plot = AblationChart.BuildAccuracy(result);
        using var bitmap = TestSupport.DecodePng(ChartRendering.RenderPng([plot], 800, 400, null));
        SKColor At(double x, int row)
        {
            var pixel = plot.GetPixel(new Coordinates(x, 2 - row + 0.2));
            return bitmap.GetPixel((int)pixel.X, (int)pixel.Y);
        }
        var blue = Skia(ChartRendering.Palette[0]);
        var red = Skia(ChartRendering.Palette[3]);
        Assert.Multiple(() =>
        {
            // Means: 88.10, 88.80, 87.00 %.
            Assert.That(TestSupport.ColorDistance(At(87.9, 0), blue), Is.LessThan(30));
            Assert.That(TestSupport.ColorDistance(At(88.3, 0), blue), Is.GreaterThan(60));
            Assert.That(TestSupport.ColorDistance(At(88.6, 1), blue), Is.LessThan(30));
            Assert.That(TestSupport.ColorDistance(At(86.9, 2), red), Is.LessThan(30), "a step that lost accuracy is red");
            Assert.That(TestSupport.ColorDistance(At(87.3, 2), red), Is.GreaterThan(60));
        });
        Assert.That(plot.GetPlottables().OfType<ScottPlot.Plottables.BarPlot>().Single().Bars.Select(b => b.Label),
            Is.EqualTo(new[] { "88.10", "88.80 (+0.70)", "87.00 (−1.80)" }));

        var path = Path.Combine(TestSupport.OutputFolder(), "ablation.png");
        AblationChart.SavePng(result, path);
        using var saved = TestSupport.DecodePngFile(path);
        Assert.That((saved.Width, saved.Height), Is.EqualTo((1400, 340)));
        using var time = AblationChart.BuildTime(result);
        Assert.That(time.GetPlottables().OfType<ScottPlot.Plottables.BarPlot>().Single().Bars.Select(b => b.Value), Is.EqualTo(new[] { 10.0, 12.0, 30.0 }));
    }

    [Test]
    public void LabelIssueGrid_CaptionsTheIssuesInRankOrder()
    {
        var (images, _) = TestSupport.FashionMnistTest(20);
        using var owned = images;
        var issues = new[]
        {
            new LabelIssue(7, 6, 0, 0.01, 0.97, 4),
            new LabelIssue(2, 3, 4, 0.05, 0.80, null),
        };
        var png = LabelIssueGrid.RenderPng(images, issues, TestSupport.FashionClasses, options: new ImageGridOptions(Columns: 2, Scale: 3));
        using var bitmap = TestSupport.DecodePng(png!);
        Assert.That(bitmap.Width, Is.GreaterThan(2 * 84));
        Assert.That(LabelIssueGrid.RenderPng(images, [], TestSupport.FashionClasses), Is.Null);
        Assert.That(() => LabelIssueGrid.RenderPng(images, [new LabelIssue(99, 0, 1, 0.1, 0.9, null)], TestSupport.FashionClasses),
            Throws.ArgumentException.With.Message.Contains("99"));
        var path = Path.Combine(TestSupport.OutputFolder(), "issues.png");
        Assert.That(LabelIssueGrid.SavePng(images, issues, TestSupport.FashionClasses, path), Is.True);
        Assert.That(File.Exists(path), Is.True);
    }
}
