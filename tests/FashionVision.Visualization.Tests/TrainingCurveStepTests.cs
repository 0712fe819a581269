using FashionVision.Training;
using SkiaSharp;

namespace FashionVision.Visualization.Tests;

/// <summary>Training curves drawn from per-batch records: what makes a one- or two-epoch run readable.</summary>
public class TrainingCurveStepTests
{
    private static readonly IReadOnlyList<EpochMetrics> OneEpoch = [new EpochMetrics(1, 0.9, 0.7, 0.7, 0.75, 1e-3, TimeSpan.FromSeconds(5))];

    /// <summary>One epoch of 200 batches: a noisy, falling loss and a one-cycle-like learning rate.</summary>
    private static IReadOnlyList<StepMetrics> Steps(int batches = 200) => Enumerable.Range(1, batches).Select(b => new StepMetrics(
        1, b, b, b / (double)batches,
        Loss: 2.3 * Math.Exp(-3.0 * b / batches) + 0.3 + 0.2 * Math.Sin(b * 1.7),
        LearningRate: 1e-3 * Math.Sin(Math.PI * b / (batches + 1)))).ToArray();

    private static SKColor Skia(ScottPlot.Color c) => new(c.R, c.G, c.B);

    /// <summary>How many pixel columns of <paramref name="area"/> contain the colour: a curve spans many, a single dot a few.</summary>
    private static int ColumnsWith(SKBitmap bitmap, SKColor color, SKRectI area)
    {
        int columns = 0;
        for (int x = area.Left; x < area.Right; x++)
            if (TestSupport.CountNear(bitmap, color, new SKRectI(x, area.Top, x + 1, area.Bottom), 25) > 0)
                columns++;
        return columns;
    }

    [Test]
    public void OneEpochWithStepsDrawsLossAndLearningRateCurvesAcrossThePanels()
    {
        using var withSteps = TestSupport.DecodePng(TrainingCurves.RenderPng(OneEpoch, Steps()));
        using var epochsOnly = TestSupport.DecodePng(TrainingCurves.RenderPng(OneEpoch));
        int third = withSteps.Width / 3;
        var loss = new SKRectI(0, 0, third, withSteps.Height);
        var rate = new SKRectI(2 * third, 0, withSteps.Width, withSteps.Height);
        var train = Skia(ChartRendering.Palette[0]);
        var lr = Skia(ChartRendering.Palette[2]);
        Assert.Multiple(() =>
        {
            Assert.That(ColumnsWith(withSteps, train, loss), Is.GreaterThan(250), "the smoothed loss runs across the loss panel");
            Assert.That(ColumnsWith(withSteps, lr, rate), Is.GreaterThan(250), "the per-batch learning rate runs across its panel");
            Assert.That(ColumnsWith(epochsOnly, train, loss), Is.LessThan(40), "without steps one epoch is a single dot");
            Assert.That(TestSupport.CountNear(withSteps, Skia(ChartRendering.Palette[1]), loss, 25), Is.GreaterThan(20), "the validation point");
        });
    }

    [Test]
    public void StepsWithAnUndefinedLearningRateAreRejected()
    {
        var steps = Steps(5).Select((s, i) => i == 2 ? s with { LearningRate = double.NaN } : s).ToArray();
        Assert.That(() => TrainingCurves.RenderPng(OneEpoch, steps),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("steps").And.Message.Contains("Batch 3 of epoch 1"));
    }

    [Test]
    public void ADivergedBatchIsLeftOutOfTheLossCurve()
    {
        var steps = Steps(50).Select((s, i) => i == 10 ? s with { Loss = double.NaN } : s).ToArray();
        using var bitmap = TestSupport.DecodePng(TrainingCurves.RenderPng(OneEpoch, steps, new ChartOptions(900, 300)));
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((900, 300)));
    }
}
