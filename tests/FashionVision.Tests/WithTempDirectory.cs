namespace FashionVision.Tests;

/// <summary>A base for fixtures whose tests each need a fresh temporary folder (<see cref="Dir"/>), removed afterwards.</summary>
public abstract class WithTempDirectory
{
    protected string Dir { get; private set; } = "";

    [SetUp]
    public void CreateTempDirectory() => Dir = Training.TrainingTestKit.TempDirectory();

    [TearDown]
    public void RemoveTempDirectory()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
