namespace FashionVision.Onnx.Tests;

/// <summary>
/// A small CNN trained briefly on a 10k Fashion-MNIST training subset (once per test run), exported to ONNX with the
/// dataset's class names and normalization.
/// </summary>
internal sealed class TrainedModel
{
    private static readonly Lazy<TrainedModel> Shared = new(Train);

    private TrainedModel(nn.Module<Tensor, Tensor> model, string onnxPath)
    {
        Model = model;
        OnnxPath = onnxPath;
    }

    public static TrainedModel Instance => Shared.Value;

    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>The FP32 export (in a temp folder that lives as long as the test process).</summary>
    public string OnnxPath { get; }

    public static OnnxExportOptions ExportOptions => new()
    {
        ClassNames = FashionMnistSamples.ClassNames,
        Mean = [FashionMnistSamples.Mean],
        Std = [FashionMnistSamples.Std],
    };

    /// <summary>Deletes the exported file if the model was trained in this run.</summary>
    public static void DeleteFiles()
    {
        if (!Shared.IsValueCreated) return;
        try { Directory.Delete(Path.GetDirectoryName(Shared.Value.OnnxPath)!, recursive: true); } catch (IOException) { }
    }

    private static TrainedModel Train()
    {
        const int steps = 250, batchSize = 64;
        var model = TestModels.SmallCnn(seed: 11);
        var (images, labels) = FashionMnistSamples.TrainSet(10_000);
        var inputs = FashionMnistSamples.Normalize(images);
        var optimizer = optim.Adam(model.parameters(), 2e-3);
        var generator = new Generator(11);
        model.train();
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var index = randint(0, inputs.shape[0], [batchSize], generator: generator);
            var loss = nn.functional.cross_entropy(model.call(inputs.index_select(0, index)), labels.index_select(0, index));
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        model.eval();

        var folder = Path.Combine(Path.GetTempPath(), "fv-onnx-trained-" + Environment.ProcessId);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "small-cnn.onnx");
        OnnxExporter.Export(model, path, ExportOptions);
        return new TrainedModel(model, path);
    }
}
