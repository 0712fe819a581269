using FashionVision.Data;
using FashionVision.IO;
using FashionVision.Tests.Shared;
using FashionVision.Training;

namespace FashionVision.Visualization.Tests;

public class TensorBoardImageTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(TestSupport.OutputFolder(), "tensorboard");

    [Test]
    public void ConfusionMatrixAndGridAreWrittenAsDecodablePngsWithTheirSizes()
    {
        var matrix = new long[,] { { 5, 1, 0 }, { 2, 7, 1 }, { 0, 0, 9 } };
        string path;
        using (var writer = new TensorBoardEventWriter(_dir))
        {
            path = writer.FilePath;
            writer.AddConfusionMatrix("confusion_matrix/test", matrix, ["a", "b", "c"], step: 12);
            using var images = rand(6, 1, 28, 28);
            writer.AddImageGrid("grid", images, step: 3, captions: Enumerable.Range(0, 6).Select(i => new ImageCaption($"#{i}")).ToArray());
        }

        var written = TensorBoardEventFile.Images(path);
        Assert.That(written.Select(i => (i.Tag, i.Step)), Is.EqualTo(new[] { ("confusion_matrix/test", 12L), ("grid", 3L) }));
        foreach (var image in written)
        {
            using var bitmap = TestSupport.DecodePng(image.Encoded);
            Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((image.Width, image.Height)), image.Tag);
            Assert.That(image.Channels, Is.EqualTo(4).Or.EqualTo(3), image.Tag);
        }
        Assert.That((written[0].Width, written[0].Height), Is.EqualTo((640, 560)));
    }

    [Test]
    public void AddPngRejectsBytesThatAreNotAPng()
    {
        using var writer = new TensorBoardEventWriter(_dir);
        Assert.That(() => writer.AddPng("x", new byte[40], 0), Throws.ArgumentException.With.Message.Contains("not a PNG"));
    }

    /// <summary>Linear classifier over 8×8 images: enough to run a Fit with validation.</summary>
    private sealed class Linear8 : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear _head;

        public Linear8() : base(nameof(Linear8))
        {
            manual_seed(1);
            _head = nn.Linear(64, 3);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => _head.forward(input.flatten(1));
    }

    private static InMemoryDataset Dataset(int count, long seed)
    {
        using var g = new Generator((ulong)seed);
        var labels = randint(0, 3, new long[] { count }, generator: g, dtype: ScalarType.Int64);
        var images = rand(new long[] { count, 1, 8, 8 }, generator: g).mul(255).to_type(ScalarType.Byte);
        return new InMemoryDataset(images, labels, ["x", "y", "z"], "random");
    }

    [Test]
    public void ImageLoggerWritesTheSampleGridOnceAndAConfusionMatrixPerValidation()
    {
        using var train = Dataset(64, 1);
        using var validation = Dataset(24, 2);
        using var model = new Linear8();
        string path;
        using (var logger = new TensorBoardLogger(_dir))
        {
            path = logger.Writer.FilePath;
            var images = new TensorBoardImageLogger(logger, train, perClass: 2);
            using var trainer = new Trainer(model, new TrainerOptions { Epochs = 3, BatchSize = 16, Callbacks = [logger, images] });
            trainer.Fit(train, validation);
        }

        var written = TensorBoardEventFile.Images(path);
        Assert.Multiple(() =>
        {
            Assert.That(written.Where(i => i.Tag == TensorBoardImageLogger.SamplesTag).Select(i => i.Step), Is.EqualTo(new[] { 0L }));
            Assert.That(written.Where(i => i.Tag == TensorBoardImageLogger.ValidationConfusionTag).Select(i => i.Step), Is.EqualTo(new[] { 4L, 8L, 12L }),
                "one matrix per validated epoch, at the epoch's last batch");
            Assert.That(TensorBoardEventFile.Scalars(path).Select(s => s.Tag).Distinct(), Is.SupersetOf(new[] { TensorBoardLogger.ValidationLossTag, TensorBoardLogger.BatchLossTag }));
        });
    }
}
