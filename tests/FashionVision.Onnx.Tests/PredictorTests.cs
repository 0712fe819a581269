using FashionVision.Inference;
using FashionVision.Onnx.Protobuf;
using Google.Protobuf;

namespace FashionVision.Onnx.Tests;

public class PredictorTests
{
    private static float[] Pixels(Tensor images) => images.contiguous().data<float>().ToArray();

    [Test]
    public void PredictionsMatchTorchSharpAndApplyTheStoredNormalization()
    {
        using var scope = NewDisposeScope();
        var trained = TrainedModel.Instance;
        var (images, _) = FashionMnistSamples.TestSet(200);
        using var predictor = OnnxPredictor.Load(trained.OnnxPath);

        var predictions = predictor.Predict(Pixels(images), 200, topK: 3);

        Tensor expected;
        using (no_grad())
            expected = nn.functional.softmax(trained.Model.call(FashionMnistSamples.Normalize(images)), 1);
        var expectedClasses = expected.argmax(1).data<long>().ToArray();
        Assert.That(predictions, Has.Count.EqualTo(200));
        for (var n = 0; n < 200; n++)
        {
            Assert.That(predictions[n].ClassIndex, Is.EqualTo((int)expectedClasses[n]), $"image {n}");
            var probabilities = expected[n].data<float>().ToArray();
            Assert.That(predictions[n].Probabilities, Is.EqualTo(probabilities).Within(1e-4f), $"image {n}");
        }
    }

    [Test]
    public void ReportsClassNamesShapeAndSortedTopK()
    {
        using var scope = NewDisposeScope();
        using var predictor = OnnxPredictor.Load(TrainedModel.Instance.OnnxPath);
        var (images, _) = FashionMnistSamples.TestSet(5);

        var prediction = predictor.Predict(Pixels(images), 5, topK: 4)[0];

        Assert.That(predictor.ClassNames, Is.EqualTo(FashionMnistSamples.ClassNames));
        Assert.That(predictor.InputShape, Is.EqualTo((1, 28, 28)));
        Assert.That(prediction.TopK, Has.Count.EqualTo(4));
        Assert.That(prediction.TopK.Select(t => t.Probability), Is.Ordered.Descending);
        Assert.That(prediction.TopK[0].ClassIndex, Is.EqualTo(prediction.ClassIndex));
        Assert.That(prediction.ClassName, Is.EqualTo(FashionMnistSamples.ClassNames[prediction.ClassIndex]));
        Assert.That(prediction.Probabilities.Sum(), Is.EqualTo(1f).Within(1e-5f));
        Assert.That(predictor.Predict(Pixels(images), 5, topK: 50)[0].TopK, Has.Count.EqualTo(10));
    }

    [Test]
    public void ManyThreadsGetExactlyTheSingleThreadedResults()
    {
        using var scope = NewDisposeScope();
        using var predictor = OnnxPredictor.Load(TrainedModel.Instance.OnnxPath);
        var (images, _) = FashionMnistSamples.TestSet(64);
        var pixels = Pixels(images);
        const int perImage = 784;
        // Single-threaded reference: each image alone and a few batches.
        var batchSizes = new[] { 1, 3, 8 };
        var reference = new Dictionary<(int Start, int Count), float[]>();
        for (var start = 0; start + 8 <= 64; start += 8)
            foreach (var size in batchSizes)
                reference[(start, size)] = predictor.Predict(pixels.AsSpan(start * perImage, size * perImage), size)
                    .SelectMany(p => p.Probabilities).ToArray();

        var keys = reference.Keys.ToArray();
        var mismatches = 0;
        var threads = Enumerable.Range(0, 8).Select(t => new Thread(() =>
        {
            var random = new Random(t);
            for (var i = 0; i < 60; i++)
            {
                var key = keys[random.Next(keys.Length)];
                var result = predictor.Predict(pixels.AsSpan(key.Start * perImage, key.Count * perImage), key.Count)
                    .SelectMany(p => p.Probabilities).ToArray();
                if (!result.SequenceEqual(reference[key]))
                    Interlocked.Increment(ref mismatches);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(mismatches, Is.Zero);
    }

    [Test]
    public void MissingFileIsFileNotFound()
    {
        Assert.That(() => OnnxPredictor.Load("/nonexistent/model.onnx"),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contains("/nonexistent/model.onnx"));
    }

    [Test]
    public void FileThatIsNotOnnxIsRejected()
    {
        using var dir = new TempDirectory();
        var text = dir.File("notes.onnx");
        File.WriteAllText(text, "this is not a model, just some text\n");
        var empty = dir.File("empty.onnx");
        File.WriteAllBytes(empty, []);
        var random = dir.File("random.onnx");
        File.WriteAllBytes(random, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());

        Assert.That(() => OnnxPredictor.Load(text), Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("notes.onnx"));
        Assert.That(() => OnnxPredictor.Load(empty), Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("empty"));
        Assert.That(() => OnnxPredictor.Load(random), Throws.InstanceOf<OnnxFormatException>());
    }

    [Test]
    public void ModelWithTheWrongInputShapeIsRejected()
    {
        using var dir = new TempDirectory();
        // A valid ONNX model whose input is a flat vector, not an image.
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "flat" } };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        model.Graph.Node.Add(new NodeProto { OpType = "Identity", Input = { "input" }, Output = { "logits" } });
        model.Graph.Input.Add(OnnxExporter.ValueInfo("input", "N", 784));
        model.Graph.Output.Add(OnnxExporter.ValueInfo("logits", "N", 784));
        var flat = dir.File("flat.onnx");
        File.WriteAllBytes(flat, model.ToByteArray());

        Assert.That(() => OnnxPredictor.Load(flat), Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("N×C×H×W"));
        Assert.That(() => OnnxPredictor.Load(TrainedModel.Instance.OnnxPath, new OnnxPredictorOptions { ExpectedInputShape = (3, 224, 224) }),
            Throws.InstanceOf<OnnxFormatException>().With.Message.Contains("not the expected 3×224×224"));
    }

    [Test]
    public void WrongPixelCountAndBadArgumentsAreRejectedByName()
    {
        using var predictor = OnnxPredictor.Load(TrainedModel.Instance.OnnxPath);
        Assert.That(() => predictor.Predict(new float[784 * 2 - 1], 2),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("pixels"));
        Assert.That(() => predictor.Predict(new float[784], 0),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("count"));
        predictor.Dispose();
        Assert.That(() => predictor.Predict(new float[784], 1), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void IsAnIPredictor()
    {
        using IPredictor predictor = OnnxPredictor.Load(TrainedModel.Instance.OnnxPath);
        Assert.That(predictor.Predict(new float[784], 1).Single().Probabilities, Has.Count.EqualTo(10));
    }
}
