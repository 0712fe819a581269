using System.Text;
using FashionVision.Models;

namespace FashionVision.TorchVision.Tests;

/// <summary>
/// Why safetensors go through the core's reader and not PyBridge's (<c>TorchSharp.PyBridge.Safetensors.LoadStateDict</c>):
/// the same malformed files through both. Ours refuses each with a <see cref="SafeTensorsFormatException"/> naming the file
/// before allocating; PyBridge's trusts the header. On well-formed files both read the same tensors.
/// </summary>
public class SafeTensorsReaderMeasurement
{
    private static byte[] File(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BitConverter.GetBytes((ulong)json.Length).CopyTo(bytes, 0);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    // Each is wrong in one way; the data section has 16 bytes.
    private static readonly (string Name, byte[] Bytes)[] Malformed =
    [
        ("offsets past the end", File("""{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}""", 16)),
        ("overlapping tensors", File("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16)),
        ("negative dimension", File("""{"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}}""", 16)),
        ("huge shape, small bytes", File("""{"a":{"dtype":"F32","shape":[1000000,1000000],"data_offsets":[0,16]}}""", 16)),
        ("unknown dtype", File("""{"a":{"dtype":"F33","shape":[4],"data_offsets":[0,16]}}""", 16)),
        ("header length past the end", [0xFF, 0xFF, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']),
        ("missing offsets", File("""{"a":{"dtype":"F32","shape":[4]}}""", 16)),
        ("reversed offsets", File("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}}""", 16)),
    ];

    [Test]
    public void OursRefusesEveryMalformedFileByNameWherePyBridgeDoesNot()
    {
        using var dir = new TempDirectory();
        int pyBridgeTyped = 0;
        foreach (var (name, bytes) in Malformed)
        {
            string path = dir.File(name.Replace(' ', '-').Replace(",", "") + ".safetensors");
            System.IO.File.WriteAllBytes(path, bytes);
            var ours = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Read(path), name)!;
            Assert.That(ours.Message, Does.Contain(Path.GetFileName(path)), name);

            string outcome;
            try
            {
                var tensors = TorchSharp.PyBridge.Safetensors.LoadStateDict(path);
                outcome = $"accepted ({tensors.Count} tensors)";
                foreach (var t in tensors.Values)
                    t.Dispose();
            }
            catch (Exception e)
            {
                bool names = e.Message.Contains(Path.GetFileName(path), StringComparison.Ordinal);
                pyBridgeTyped += names ? 1 : 0;
                outcome = $"{e.GetType().Name}{(names ? " naming the file" : "")}: {e.Message.Split('\n')[0]}";
            }
            TestContext.Out.WriteLine($"{name}: ours SafeTensorsFormatException naming the file; PyBridge {outcome}");
        }
        Assert.That(pyBridgeTyped, Is.LessThan(Malformed.Length),
            "if PyBridge's reader names the file for every malformed case, reconsider routing safetensors through it");
    }
}
