using System.IO.Compression;
using FashionVision.IO;
using FashionVision.Training;
using static FashionVision.Tests.Training.TrainingTestKit;

namespace FashionVision.Tests.Training;

public class CheckpointTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = TempDirectory();

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string TrainedCheckpoint(bool ema = false)
    {
        using var train = Bars(64);
        using var validation = Bars(32, seed: 2);
        using var model = new TinyNet();
        using var trainer = new Trainer(model, new TrainerOptions
        {
            Epochs = 2, BatchSize = 16, CheckpointDirectory = _dir, EmaDecay = ema ? 0.9 : null,
            ModelName = "tiny", ModelOptionsJson = "{\"channels\":4}",
        });
        trainer.Fit(train, validation);
        return Path.Combine(_dir, "last.ckpt");
    }

    [Test]
    public void ManifestCarriesEverythingAPredictorAndAResumeNeed()
    {
        string path = TrainedCheckpoint(ema: true);
        Assert.That(File.Exists(Path.Combine(_dir, "best.ckpt")), Is.True);
        var m = Checkpoint.ReadManifest(path);
        Assert.That(m.Format, Is.EqualTo("fashionvision-checkpoint"));
        Assert.That(m.Epoch, Is.EqualTo(2));
        Assert.That(m.GlobalStep, Is.EqualTo(8));
        Assert.That(m.ClassNames, Is.EqualTo(ThreeClasses));
        Assert.That(m.InputShape, Is.EqualTo(new[] { 1, 8, 8 }));
        Assert.That(m.Normalization, Is.Not.Null);
        Assert.That(m.ModelName, Is.EqualTo("tiny"));
        Assert.That(m.ModelOptionsJson, Is.EqualTo("{\"channels\":4}"));
        Assert.That(m.OptimizerType, Is.EqualTo("AdamW"));
        Assert.That(m.HasAveragedWeights, Is.True);
        Assert.That(m.History, Has.Count.EqualTo(2));
        Assert.That(m.SchedulerState!["step"], Is.EqualTo(2));
        Assert.That(m.RunSettings!.Epochs, Is.EqualTo(2));
        Assert.That(m.RunSettings.IntraOpThreads, Is.EqualTo(get_num_threads()));
        Assert.That(m.Callbacks.Keys, Does.Contain("ExponentialMovingAverage"));
        using var zip = ZipFile.OpenRead(path);
        Assert.That(zip.Entries.Select(e => e.FullName), Is.SupersetOf(new[] { "manifest.json", "model.sd", "ema.sd", "optimizer.bin", "rng.sd" }));
    }

    [Test]
    public void AFailedWriteLeavesThePreviousCheckpointIntactAndNoTemporaryFile()
    {
        string path = TrainedCheckpoint();
        byte[] before = File.ReadAllBytes(path);
        Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[1000]);
            throw new IOException("simulated crash in the middle of a write");
        }));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName), Is.EquivalentTo(new[] { "last.ckpt", "best.ckpt" }));
        Assert.DoesNotThrow(() => Checkpoint.Load(path));
    }

    [Test]
    public void TruncatedOrForeignFilesAreRejectedWithTheirPath()
    {
        string path = TrainedCheckpoint();
        string truncated = Path.Combine(_dir, "truncated.ckpt");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(truncated))!;
        Assert.That(e.Path, Is.EqualTo(truncated));
        Assert.That(e.Message, Does.Contain(truncated));

        string foreign = Path.Combine(_dir, "foreign.ckpt");
        using (var zip = ZipFile.Open(foreign, ZipArchiveMode.Create))
        using (var w = new StreamWriter(zip.CreateEntry("manifest.json").Open()))
            w.Write("{\"Format\":\"something-else\"}");
        Assert.That(Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(foreign))!.Message, Does.Contain("does not identify"));
    }

    [Test]
    public void LoadingIntoAnotherArchitectureOrClassCountNamesTheDifferences()
    {
        var checkpoint = Checkpoint.Load(TrainedCheckpoint());
        using var wider = new TinyNet(channels: 8);
        var e = Assert.Throws<CheckpointMismatchException>(() => checkpoint.LoadWeightsInto(wider))!;
        Assert.That(e.MismatchedShapes, Has.Some.StartsWith("conv.weight: checkpoint [4, 1, 3, 3] vs model [8, 1, 3, 3]"));
        Assert.That(e.Message, Does.Contain("tiny").And.Contain("3 classes"));
        using var fiveClasses = new TinyNet(classes: 5);
        e = Assert.Throws<CheckpointMismatchException>(() => checkpoint.LoadWeightsInto(fiveClasses))!;
        Assert.That(e.MismatchedShapes, Has.Some.StartsWith("head.weight"));
    }

    [Test]
    public void ResumingWithAnotherOptimizerOrClassSetFailsClearly()
    {
        string path = TrainedCheckpoint();
        using var train = Bars(64);
        using var model = new TinyNet();
        var sgdOptions = new TrainerOptions { Epochs = 3, BatchSize = 16, ResumeFrom = path, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd } };
        using var sgd = new Trainer(model, sgdOptions);
        Assert.That(Assert.Throws<ResumeSettingsMismatchException>(() => sgd.Fit(train))!.Differences.Select(d => d.Path), Does.Contain("Optimizer.Kind"));
        // Even with changes allowed, AdamW's state cannot become SGD's.
        using var sgdAllowed = new Trainer(model, sgdOptions with { AllowChangedOptionsOnResume = true });
        Assert.That(Assert.Throws<CheckpointMismatchException>(() => sgdAllowed.Fit(train))!.Message, Does.Contain("optimizer"));
        using var fourClasses = Bars(64, classes: 4);
        using var model4 = new TinyNet(classes: 4);
        using var other = new Trainer(model4, new TrainerOptions { Epochs = 3, BatchSize = 16, ResumeFrom = path, AllowChangedOptionsOnResume = true });
        Assert.That(Assert.Throws<CheckpointMismatchException>(() => other.Fit(fourClasses))!.Message, Does.Contain("classes"));
    }
}
