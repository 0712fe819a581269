using FashionVision.Training;
using ScottPlot;
using SkiaSharp;

namespace FashionVision.Visualization.Tests;

public class ChartTests
{
    private static IReadOnlyList<EpochMetrics> History(int epochs, bool withValidation = true) =>
        Enumerable.Range(1, epochs).Select(e => new EpochMetrics(
            e,
            TrainLoss: 1.5 / e,
            TrainAccuracy: 1 - 0.4 / e,
            ValidationLoss: withValidation ? 1.6 / e + 0.05 : null,
            ValidationAccuracy: withValidation ? 1 - 0.45 / e - 0.01 : null,
            LearningRate: 0.1 * Math.Pow(0.5, e - 1),
            Elapsed: TimeSpan.FromSeconds(3))).ToArray();

    private static SKColor Skia(Color c) => new(c.R, c.G, c.B);

    [Test]
    public void TrainingCurves_WritesThreePanelPngWithBothCurvesInEachPanel()
    {
        var path = Path.Combine(TestSupport.OutputFolder(), "curves.png");
        TrainingCurves.SavePng(History(12), path);

        using var bitmap = TestSupport.DecodePngFile(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((1500, 450)));
        var train = Skia(ChartRendering.Palette[0]);
        var validation = Skia(ChartRendering.Palette[1]);
        var rate = Skia(ChartRendering.Palette[2]);
        var third = bitmap.Width / 3;
        var loss = new SKRectI(0, 0, third, bitmap.Height);
        var accuracy = new SKRectI(third, 0, 2 * third, bitmap.Height);
        var lr = new SKRectI(2 * third, 0, bitmap.Width, bitmap.Height);
        Assert.Multiple(() =>
        {
            Assert.That(TestSupport.CountNear(bitmap, train, loss, 20), Is.GreaterThan(200), "train loss line");
            Assert.That(TestSupport.CountNear(bitmap, validation, loss, 20), Is.GreaterThan(200), "validation loss line");
            Assert.That(TestSupport.CountNear(bitmap, train, accuracy, 20), Is.GreaterThan(200), "train accuracy line");
            Assert.That(TestSupport.CountNear(bitmap, validation, accuracy, 20), Is.GreaterThan(200), "validation accuracy line");
            Assert.That(TestSupport.CountNear(bitmap, rate, lr, 20), Is.GreaterThan(200), "learning-rate line");
            Assert.That(TestSupport.CountNear(bitmap, train, lr, 20), Is.LessThan(20), "no train line in the learning-rate panel");
        });
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void TrainingCurves_WithoutValidation_DrawsNoValidationLine()
    {
        using var bitmap = TestSupport.DecodePng(TrainingCurves.RenderPng(History(5, withValidation: false), TrainingCurve.Loss));
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((600, 450)));
        var all = new SKRectI(0, 0, bitmap.Width, bitmap.Height);
        Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[0]), all, 20), Is.GreaterThan(200));
        Assert.That(TestSupport.CountNear(bitmap, Skia(ChartRendering.Palette[1]), all, 20), Is.LessThan(10));
    }

    [Test]
    public void TrainingCurves_SingleEpochAndCustomSize_Render()
    {
        using var bitmap = TestSupport.DecodePng(TrainingCurves.RenderPng(History(1), new ChartOptions(900, 300, "one epoch")));
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((900, 300)));
    }

    [Test]
    public void TrainingCurves_BadInput_Throws()
    {
        var nan = new[] { new EpochMetrics(1, double.NaN, 0.5, null, null, 0.1, TimeSpan.Zero) };
        Assert.Multiple(() =>
        {
            Assert.That(() => TrainingCurves.RenderPng([]), Throws.ArgumentException.With.Property("ParamName").EqualTo("history"));
            Assert.That(() => TrainingCurves.RenderPng(nan), Throws.ArgumentException.With.Message.Contains("NaN"));
            Assert.That(() => TrainingCurves.RenderPng(History(3), new ChartOptions(10, 10)), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => TrainingCurves.RenderPng(History(3), (TrainingCurve)42), Throws.InstanceOf<ArgumentOutOfRangeException>());
        });
    }

    [Test]
    public void ConfusionMatrix_CellColoursFollowCountsAndRowsAreTrueClasses()
    {
        var names = new[] { "alpha", "beta", "gamma" };
        long[,] matrix = { { 5, 80, 0 }, { 0, 40, 10 }, { 2, 0, 60 } };
        var options = new ConfusionMatrixOptions(Width: 600, Height: 520);
        using var plot = ConfusionMatrixChart.Build(matrix, names, options);
        var bytes = ChartRendering.RenderPng([plot], options.Width, options.Height, null);
        using var bitmap = TestSupport.DecodePng(bytes);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((600, 520)));

        // Sample each cell away from its centre, where the count is written.
        // Sample each cell near two opposite corners (the count is written at its centre); both must agree.
        double Shade(int t, int p)
        {
            var upperRight = plot.GetPixel(new Coordinates(p + 0.4, 2 - t + 0.4));
            var lowerLeft = plot.GetPixel(new Coordinates(p - 0.4, 2 - t - 0.4));
            var a = TestSupport.Luminance(bitmap.GetPixel((int)upperRight.X, (int)upperRight.Y));
            var b = TestSupport.Luminance(bitmap.GetPixel((int)lowerLeft.X, (int)lowerLeft.Y));
            Assert.That(a, Is.EqualTo(b).Within(0.02), $"cell ({t}, {p}) is one colour");
            return a;
        }
        Assert.Multiple(() =>
        {
            Assert.That(Shade(0, 1), Is.LessThan(Shade(2, 2)), "80 is darker than 60");
            Assert.That(Shade(2, 2), Is.LessThan(Shade(1, 1)), "60 is darker than 40");
            Assert.That(Shade(1, 1), Is.LessThan(Shade(1, 2)), "40 is darker than 10");
            Assert.That(Shade(1, 2), Is.LessThan(Shade(1, 0)), "10 is darker than 0");
            Assert.That(Shade(1, 0), Is.EqualTo(Shade(0, 2)).Within(0.01), "zeros look alike");
            Assert.That(Shade(0, 1), Is.LessThan(Shade(1, 0) - 0.3), "the matrix is not transposed: row 0 (true alpha) holds the 80");
        });
    }

    [Test]
    public void ConfusionMatrix_Normalised_EqualProportionsLookAlike()
    {
        var names = new[] { "a", "b" };
        long[,] matrix = { { 90, 10 }, { 900, 100 } };
        var options = new ConfusionMatrixOptions(Normalize: true, Width: 500, Height: 450);
        using var plot = ConfusionMatrixChart.Build(matrix, names, options);
        using var bitmap = TestSupport.DecodePng(ChartRendering.RenderPng([plot], options.Width, options.Height, null));
        SKColor Cell(int t, int p)
        {
            var pixel = plot.GetPixel(new Coordinates(p + 0.35, 1 - t + 0.35));
            return bitmap.GetPixel((int)pixel.X, (int)pixel.Y);
        }
        Assert.Multiple(() =>
        {
            Assert.That(TestSupport.ColorDistance(Cell(0, 0), Cell(1, 0)), Is.LessThan(3));
            Assert.That(TestSupport.ColorDistance(Cell(0, 1), Cell(1, 1)), Is.LessThan(3));
            Assert.That(TestSupport.ColorDistance(Cell(0, 0), Cell(0, 1)), Is.GreaterThan(60));
            Assert.That(ConfusionMatrixChart.CellValues(matrix, true)[1, 0], Is.EqualTo(0.9).Within(1e-12));
        });
    }

    [Test]
    public void ConfusionMatrix_FashionMnistSizedMatrix_SavesPng()
    {
        var k = TestSupport.FashionClasses.Count;
        var matrix = new long[k, k];
        for (var t = 0; t < k; t++)
            for (var p = 0; p < k; p++)
                matrix[t, p] = t == p ? 850 + 10 * t : (t * 7 + p * 3) % 40;
        matrix[6, 0] = 120;
        var path = Path.Combine(TestSupport.OutputFolder(), "confusion.png");
        ConfusionMatrixChart.SavePng(matrix, TestSupport.FashionClasses, path);
        using var bitmap = TestSupport.DecodePngFile(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((860, 760)));
        ConfusionMatrixChart.SavePng(matrix, TestSupport.FashionClasses, Path.Combine(Path.GetDirectoryName(path)!, "confusion-normalised.png"), new ConfusionMatrixOptions(Normalize: true));
    }

    [Test]
    public void ConfusionMatrix_BadInput_Throws()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => ConfusionMatrixChart.RenderPng(new long[2, 3], ["a", "b"]), Throws.ArgumentException.With.Property("ParamName").EqualTo("matrix"));
            Assert.That(() => ConfusionMatrixChart.RenderPng(new long[2, 2], ["a"]), Throws.ArgumentException.With.Property("ParamName").EqualTo("classNames"));
            Assert.That(() => ConfusionMatrixChart.RenderPng(new long[,] { { 1, -1 }, { 0, 1 } }, ["a", "b"]), Throws.ArgumentException.With.Message.Contains("negative"));
            Assert.That(() => ConfusionMatrixChart.RenderPng(new long[0, 0], []), Throws.ArgumentException);
        });
    }

    [Test]
    public void F1Bars_BarLengthsFollowScores()
    {
        var names = new[] { "long", "short", "middle" };
        var scores = new[] { 0.6, 0.2, 0.4 };
        using var plot = PerClassF1Chart.Build(names, scores, "F1", "F1");
        using var bitmap = TestSupport.DecodePng(ChartRendering.RenderPng([plot], 700, 400, null));
        var bar = Skia(ChartRendering.Palette[0]);
        bool IsBar(double x, int classIndex)
        {
            var pixel = plot.GetPixel(new Coordinates(x, 2 - classIndex + 0.25));
            return TestSupport.ColorDistance(bitmap.GetPixel((int)pixel.X, (int)pixel.Y), bar) < 30;
        }
        Assert.Multiple(() =>
        {
            Assert.That(IsBar(0.55, 0), Is.True);
            Assert.That(IsBar(0.65, 0), Is.False);
            Assert.That(IsBar(0.15, 1), Is.True);
            Assert.That(IsBar(0.25, 1), Is.False);
            Assert.That(IsBar(0.35, 2), Is.True);
            Assert.That(IsBar(0.45, 2), Is.False);
        });
    }

    [Test]
    public void F1Bars_SavePngAndBadInput()
    {
        var scores = new[] { 0.86, 0.98, 0.88, 0.91, 0.87, 0.98, 0.72, 0.96, 0.98, 0.96 };
        var path = Path.Combine(TestSupport.OutputFolder(), "f1.png");
        PerClassF1Chart.SavePng(TestSupport.FashionClasses, scores, path);
        using var bitmap = TestSupport.DecodePngFile(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((800, 480)));
        Assert.Multiple(() =>
        {
            Assert.That(() => PerClassF1Chart.RenderPng(["a"], [0.5, 0.4]), Throws.ArgumentException.With.Property("ParamName").EqualTo("scores"));
            Assert.That(() => PerClassF1Chart.RenderPng(["a"], [1.5]), Throws.ArgumentException.With.Message.Contains("outside"));
            Assert.That(() => PerClassF1Chart.RenderPng(["a"], [double.NaN]), Throws.ArgumentException);
            Assert.That(() => PerClassF1Chart.RenderPng([], []), Throws.ArgumentException.With.Property("ParamName").EqualTo("classNames"));
        });
    }
}
