using FashionVision.Training;
using SkiaSharp;

namespace FashionVision.Visualization.Tests;

public class DiagnosticsChartTests
{
    private static IReadOnlyList<GradientFlowEpoch> Gradients(int epochs, int layers) =>
        Enumerable.Range(1, epochs).Select(e => new GradientFlowEpoch(e, 10,
            Enumerable.Range(0, layers).Select(i => new LayerGradientNorm($"layer{i}.conv", Math.Pow(10, -3 + 3.0 * i / layers) / e, 2e-2)).ToArray())).ToArray();

    private static IReadOnlyList<DeadReluEpoch> Relus(int epochs) =>
        Enumerable.Range(1, epochs).Select(e => new DeadReluEpoch(e, 47, new[]
        {
            new ReluSite("stem.relu", 32, 0, 0.4),
            new ReluSite("layer1.0.relu", 64, 2 * e, 0.5),
            new ReluSite("layer1.0.relu#2", 64, 8 * e, 0.6),
        })).ToArray();

    private static SKColor Skia(ScottPlot.Color c) => new(c.R, c.G, c.B);

    [Test]
    public void GradientFlowDrawsOneLinePerEpochUpToSix()
    {
        var path = Path.Combine(TestSupport.OutputFolder(), "gradient-flow.png");
        GradientFlowChart.SavePng(Gradients(9, 50), path);
        using var bitmap = TestSupport.DecodePngFile(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((1200, 600)));
        var all = new SKRectI(0, 0, bitmap.Width, bitmap.Height);
        Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[3]), all, 20), Is.GreaterThan(300), "the last epoch's line");
        Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[0]), all, 20), Is.GreaterThan(300), "earlier epochs");
        Assert.That(LayerProfilePlot.EpochsToDraw(9), Is.EqualTo(new[] { 0, 2, 3, 5, 6, 8 }));
        Assert.That(LayerProfilePlot.EpochsToDraw(3), Is.EqualTo(new[] { 0, 1, 2 }));
    }

    [Test]
    public void GradientFlowRejectsEmptyOrInconsistentHistories()
    {
        Assert.Throws<ArgumentException>(() => GradientFlowChart.RenderPng(Array.Empty<GradientFlowEpoch>()));
        var mixed = new[] { Gradients(1, 3)[0], Gradients(1, 4)[0] with { Epoch = 2 } };
        Assert.That(Assert.Throws<ArgumentException>(() => GradientFlowChart.RenderPng(mixed))!.Message, Does.Contain("other layers"));
        var negative = new[] { new GradientFlowEpoch(1, 1, new[] { new LayerGradientNorm("a", -1, 0) }) };
        Assert.Throws<ArgumentException>(() => GradientFlowChart.RenderPng(negative));
        // A layer without gradient (norm 0) is drawn at the bottom of the log scale rather than rejected.
        var zero = new[] { new GradientFlowEpoch(1, 1, new[] { new LayerGradientNorm("a", 0, 0), new LayerGradientNorm("b", 0.5, 0.5) }) };
        Assert.That(TestSupport.DecodePng(GradientFlowChart.RenderPng(zero)).Width, Is.EqualTo(1200));
    }

    [Test]
    public void DeadReluChartPutsTheLastEpochsTotalInTheTitleAndDrawsEachEpoch()
    {
        var history = Relus(3);
        using var bitmap = TestSupport.DecodePng(DeadReluChart.RenderPng(history, new ChartOptions(900, 500)));
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((900, 500)));
        var all = new SKRectI(0, 0, bitmap.Width, bitmap.Height);
        Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[3]), all, 20), Is.GreaterThan(200));
        Assert.That(history[^1].DeadUnits, Is.EqualTo(30));
        Assert.That(history[^1].DeadFraction, Is.EqualTo(30.0 / 160));
        Assert.Throws<ArgumentException>(() => DeadReluChart.RenderPng(new[] { new DeadReluEpoch(1, 1, Array.Empty<ReluSite>()) }));
    }
}
