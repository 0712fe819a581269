using System.Buffers.Binary;
using System.Text;
using FashionVision.Models;

namespace FashionVision.Tests.Models;

public class SafeTensorsTests
{
    private string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "fv-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>Builds a file byte by byte, independently of the library's writer.</summary>
    private static byte[] Build(string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    [Test]
    public void ReadsAHandBuiltFile()
    {
        var data = new byte[6 * 4 + 2 * 8 + 2 * 2];
        var floats = new[] { 1f, -2f, 3.5f, 0f, 1e-3f, 65504f };
        Buffer.BlockCopy(floats, 0, data, 0, 24);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(24), 42);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(32), -7);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(40), (Half)0.5f);
        BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(42), (Half)(-3f));
        const string header = """
            {"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
             "n":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},
             "h":{"dtype":"F16","shape":[2],"data_offsets":[40,44]},
             "__metadata__":{"format":"pt"}}
            """;
        File.WriteAllBytes(PathOf("hand.safetensors"), Build(header, data));

        var tensors = SafeTensors.Read(PathOf("hand.safetensors"), out var metadata);
        Assert.That(metadata["format"], Is.EqualTo("pt"));
        Assert.That(tensors.Keys, Is.EqualTo(new[] { "w", "n", "h" }));
        Assert.That(tensors["w"].shape, Is.EqualTo(new long[] { 2, 3 }));
        Assert.That(tensors["w"].data<float>().ToArray(), Is.EqualTo(floats));
        Assert.That(tensors["n"].dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(tensors["n"].data<long>().ToArray(), Is.EqualTo(new long[] { 42, -7 }));
        Assert.That(tensors["h"].dtype, Is.EqualTo(ScalarType.Float16));
        Assert.That(tensors["h"].to(ScalarType.Float32).data<float>().ToArray(), Is.EqualTo(new[] { 0.5f, -3f }));
    }

    [Test]
    public void RoundTripsEveryDTypeAndScalarsAndEmptyTensors()
    {
        var generator = new Generator(1);
        var original = new Dictionary<string, Tensor>
        {
            ["f64"] = randn(new long[] { 3, 2 }, ScalarType.Float64, generator: generator),
            ["f32"] = randn(new long[] { 4, 1, 3, 3 }, generator: generator),
            ["f16"] = randn(new long[] { 5 }, generator: generator).to(ScalarType.Float16),
            ["bf16"] = randn(new long[] { 5 }, generator: generator).to(ScalarType.BFloat16),
            ["i64"] = tensor(long.MaxValue),
            ["i32"] = tensor(new[] { int.MinValue, 0, 5 }),
            ["i16"] = tensor(new short[] { -3, 300 }),
            ["i8"] = tensor(new sbyte[] { -128, 127 }),
            ["u8"] = tensor(new byte[] { 0, 255, 7 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["empty"] = zeros(0, 4),
            ["strided"] = arange(12f).reshape(3, 4).t(),
        };
        SafeTensors.Write(PathOf("all.safetensors"), original, new Dictionary<string, string> { ["model"] = "test" });

        var bytes = File.ReadAllBytes(PathOf("all.safetensors"));
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.That((8 + headerLength) % 8, Is.EqualTo(0), "the data section is 8-byte aligned");

        var read = SafeTensors.Read(PathOf("all.safetensors"), out var metadata);
        Assert.That(metadata, Is.EqualTo(new Dictionary<string, string> { ["model"] = "test" }));
        Assert.That(read.Keys, Is.EquivalentTo(original.Keys));
        foreach (var (name, expected) in original)
        {
            Assert.That(read[name].dtype, Is.EqualTo(expected.dtype), name);
            Assert.That(read[name].shape, Is.EqualTo(expected.shape), name);
            Assert.That(read[name].Identical(expected), Is.True, name);
        }
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void AFailedWriteLeavesThePreviousFileIntact()
    {
        string path = PathOf("w.safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["a"] = ones(2) });
        var before = File.ReadAllBytes(path);
        var e = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Write(path, new Dictionary<string, Tensor> { ["a"] = ones(2), ["c"] = ones(2, dtype: ScalarType.ComplexFloat32) }))!;
        Assert.That(e.Message, Does.Contain("'c'"));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1));
        Assert.Throws<ArgumentException>(() => SafeTensors.Write(path, new Dictionary<string, Tensor> { ["__metadata__"] = ones(1) }));
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        var eight = new byte[8];
        yield return new TestCaseData(new byte[5]).SetName("shorter than the length field");
        var huge = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue);
        yield return new TestCaseData(huge).SetName("header length beyond any limit");
        var past = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(past, 100);
        yield return new TestCaseData(past).SetName("header length past the end");
        yield return new TestCaseData(Build("{not json", eight)).SetName("invalid JSON");
        yield return new TestCaseData(Build("[1,2]", eight)).SetName("header not an object");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", eight)).SetName("unknown dtype");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", eight)).SetName("negative dimension");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}""", eight)).SetName("offsets past the data");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", eight)).SetName("size does not match shape");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", eight)).SetName("reversed offsets");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", eight)).SetName("overlapping tensors");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}""", eight)).SetName("shape size overflows");
        yield return new TestCaseData(Build("""{"a":{"dtype":"F32","shape":[2]}}""", eight)).SetName("no data offsets");
        yield return new TestCaseData(Build("""{"__metadata__":{"k":1}}""", eight)).SetName("non-string metadata");
    }

    [TestCaseSource(nameof(Malformed))]
    public void MalformedFilesThrowAFormatExceptionNamingTheFile(byte[] bytes)
    {
        string path = PathOf("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(path))!;
        Assert.That(e.Message, Does.Contain(path));
        Assert.That(e.FilePath, Is.EqualTo(path));
        Assert.That(e.Problem, Is.Not.Empty);
    }

    [Test]
    public void AMissingFileThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Read(PathOf("absent.safetensors")));
    }
}
