using System.Net;
using System.Security.Cryptography;
using FashionVision.Imaging;
using SkiaSharp;

namespace FashionVision.AspNetCore.Tests;

/// <summary>The endpoints answer what an in-process <c>OnnxPredictor</c> on the same file answers.</summary>
public sealed class EndpointTests : WebAppFixture
{
    [Test]
    public async Task PredictAnswersABatchInOrderLikeTheOnnxPredictor()
    {
        var images = Enumerable.Range(0, 4).Select(i => ($"photo-{i}.png", TestImages.Png(i, size: 84, photo: true))).ToArray();
        using var response = await Client.PostAsync("/predict?top=2", Form(images));
        var json = await Json(response);

        using var predictor = WebAppFactory.LoadPredictor("fashion");
        var predictions = json.GetProperty("predictions");
        Assert.That(json.GetProperty("model").GetString(), Is.EqualTo("fashion"));
        Assert.That(predictions.GetArrayLength(), Is.EqualTo(images.Length));
        for (var i = 0; i < images.Length; i++)
        {
            var expected = predictor.PredictImage(images[i].Item2, ImageDecodeOptions.FashionMnist, topK: 2);
            var actual = predictions[i];
            Assert.Multiple(() =>
            {
                Assert.That(actual.GetProperty("image").GetString(), Is.EqualTo(images[i].Item1));
                Assert.That(actual.GetProperty("classIndex").GetInt32(), Is.EqualTo(expected.ClassIndex));
                Assert.That(actual.GetProperty("className").GetString(), Is.EqualTo(expected.ClassName));
                Assert.That(actual.GetProperty("confidence").GetSingle(), Is.EqualTo(expected.Confidence).Within(1e-5));
                Assert.That(actual.GetProperty("top").EnumerateArray().Select(c => c.GetProperty("classIndex").GetInt32()),
                    Is.EqualTo(expected.TopK.Select(c => c.ClassIndex)));
            });
        }
    }

    [Test]
    public async Task PredictTakesOneRawJpegForANamedModel()
    {
        var jpeg = TestImages.Jpeg(5);
        using var response = await Client.PostAsync("/predict?model=digits&top=5", Raw(jpeg, "image/jpeg"));
        var json = await Json(response);
        using var predictor = WebAppFactory.LoadPredictor("digits");
        var expected = predictor.PredictImage(jpeg, ImageDecodeOptions.Mnist, topK: 5);
        var prediction = json.GetProperty("predictions")[0];
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("model").GetString(), Is.EqualTo("digits"));
            Assert.That(prediction.GetProperty("image").GetString(), Is.EqualTo("request body"));
            Assert.That(prediction.GetProperty("className").GetString(), Is.EqualTo(expected.ClassName));
            Assert.That(prediction.GetProperty("top").GetArrayLength(), Is.EqualTo(5));
        });
    }

    [Test]
    public async Task ModelDescribesTheServedFile()
    {
        var json = await Json(await Client.GetAsync("/model"));
        var version = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(WebAppFactory.OnnxPath("fashion"))))[..12];
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("name").GetString(), Is.EqualTo("fashion"));
            Assert.That(json.GetProperty("version").GetString(), Is.EqualTo(version));
            Assert.That(json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()), Is.EqualTo(Data.FashionMnistSource.Classes));
            Assert.That(json.GetProperty("inputShape").EnumerateArray().Select(d => d.GetInt32()), Is.EqualTo(new[] { 1, 28, 28 }));
            Assert.That(json.GetProperty("gradCam").GetBoolean(), Is.True);
            Assert.That(json.GetProperty("isDefault").GetBoolean(), Is.True);
        });
        var models = await Json(await Client.GetAsync("/models"));
        Assert.That(models.EnumerateArray().Select(m => m.GetProperty("name").GetString()), Is.EqualTo(new[] { "digits", "fashion" }));
        using var unknown = await Client.GetAsync("/model?model=nope");
        await AssertProblem(unknown, HttpStatusCode.NotFound, "no model is called 'nope'");
    }

    [Test]
    public async Task HealthCountsImagesAndReportsMemory()
    {
        var before = await Json(await Client.GetAsync("/health"));
        using (var response = await Client.PostAsync("/predict", Form(("a.png", TestImages.Png(0)), ("b.png", TestImages.Png(1)))))
            await Json(response);
        var after = await Json(await Client.GetAsync("/health"));
        Assert.Multiple(() =>
        {
            Assert.That(after.GetProperty("status").GetString(), Is.EqualTo("ok"));
            Assert.That(after.GetProperty("models").GetInt32(), Is.EqualTo(2));
            Assert.That(after.GetProperty("images").GetInt64() - before.GetProperty("images").GetInt64(), Is.EqualTo(2));
            Assert.That(after.GetProperty("modelRuns").GetInt64() - before.GetProperty("modelRuns").GetInt64(), Is.EqualTo(1), "two images of one request, one run");
            Assert.That(after.GetProperty("workingSetBytes").GetInt64(), Is.GreaterThan(10_000_000));
        });
    }

    [Test]
    public async Task GradCamReturnsAnOverlayOfThePredictedClass()
    {
        var png = TestImages.Png(0, size: 56, photo: true);
        using var response = await Client.PostAsync("/gradcam", Form(("boot.png", png)));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"));
        using var overlay = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.That((overlay.Width, overlay.Height), Is.EqualTo((28, 28)));
        var pixels = Enumerable.Range(0, 28 * 28).Select(i => overlay.GetPixel(i % 28, i / 28)).ToArray();
        Assert.That(pixels.Any(p => p.Red != p.Green || p.Green != p.Blue), Is.True, "a coloured heatmap over a gray image");

        // The explained class is the checkpoint's prediction; the ONNX model was exported from it, so they agree.
        using var predictor = WebAppFactory.LoadPredictor("fashion");
        var expected = predictor.PredictImage(png, ImageDecodeOptions.FashionMnist).ClassName;
        Assert.That(Uri.UnescapeDataString(response.Headers.GetValues("X-FashionVision-Class").Single()), Is.EqualTo(expected));

        using var two = await Client.PostAsync("/gradcam", Form(("a.png", png), ("b.png", png)));
        await AssertProblem(two, HttpStatusCode.BadRequest, "one image per request");
    }
}
