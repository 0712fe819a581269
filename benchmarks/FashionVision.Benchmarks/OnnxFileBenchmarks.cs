using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using FashionVision.Data;
using FashionVision.Onnx;
using static TorchSharp.torch;

namespace FashionVision.Benchmarks;

/// <summary>
/// ONNX Runtime latency of the ONNX files you already have: every <c>*.onnx</c> under the folder named by the
/// <c>FASHIONVISION_BENCH_ONNX</c> environment variable (for instance the files the compression tables of docs/recipes.md
/// were measured on: trained, pruned, FP32, post-training and quantization-aware INT8), at batch 1 and 64, on real
/// Fashion-MNIST test images through <see cref="OnnxPredictor"/> (normalization included), exactly as an app runs them.
/// Run: FASHIONVISION_BENCH_ONNX=runs/onnx dotnet run -c Release --project benchmarks/FashionVision.Benchmarks -- --filter '*OnnxFileBenchmarks*' --job short
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByParams)]
[Config(typeof(WholeFileNames))]
public class OnnxFileBenchmarks
{
    /// <summary>The environment variable that names the folder of ONNX files.</summary>
    public const string FolderVariable = "FASHIONVISION_BENCH_ONNX";

    private OnnxPredictor _predictor = null!;
    private float[] _pixels = [];

    /// <summary>The file, relative to the folder.</summary>
    [ParamsSource(nameof(Files))]
    public string File { get; set; } = "";

    /// <summary>Images per call.</summary>
    [Params(1, 64)]
    public int Batch { get; set; } = 1;

    /// <summary>
    /// Every ONNX file under the folder, in name order; none (so the class has no cases and the other benchmarks run) when
    /// the variable is unset or its folder is missing or holds no ONNX file, which is said once on stderr.
    /// </summary>
    public static IEnumerable<string> Files()
    {
        if (FolderOrProblem() is { Problem: { } problem })
        {
            Skipped(problem);
            return [];
        }
        string folder = Folder();
        var files = Directory.EnumerateFiles(folder, "*.onnx", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0)
            Skipped($"{folder} holds no .onnx file");
        return files;
    }

    [GlobalSetup]
    public void Setup()
    {
        _predictor = OnnxPredictor.Load(Path.Combine(Folder(), File));
        using var test = new FashionMnistSource().Load(DatasetSplit.Test);
        if (_predictor.InputShape != (test.ImageShape.Channels, test.ImageShape.Height, test.ImageShape.Width))
            throw new InvalidOperationException($"{File} takes {_predictor.InputShape} inputs, not Fashion-MNIST's 1×28×28 images.");
        using var pixels = test.Images[..Batch].to(float32).div(255f).contiguous();
        _pixels = pixels.data<float>().ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _predictor.Dispose();

    [Benchmark]
    public float OnnxRuntime() => _predictor.PredictLogits(_pixels, Batch)[0];

    private static string Folder() => FolderOrProblem().Folder!;

    private static (string? Folder, string? Problem) FolderOrProblem()
    {
        if (Environment.GetEnvironmentVariable(FolderVariable) is not { Length: > 0 } value)
            return (null, $"{FolderVariable} is not set (set it to a folder of .onnx files, e.g. {FolderVariable}=runs/onnx)");
        string folder = Path.GetFullPath(value);
        return Directory.Exists(folder) ? (folder, null) : (null, $"{FolderVariable} names no folder: {folder}");
    }

    private static int _skipNoticed;

    /// <summary>Says once why the class has no cases (BenchmarkDotNet asks for the parameters more than once).</summary>
    private static void Skipped(string reason)
    {
        if (Interlocked.Exchange(ref _skipNoticed, 1) == 0)
            Console.Error.WriteLine($"{nameof(OnnxFileBenchmarks)}: no cases: {reason}.");
    }

    /// <summary>Prints each file's whole name (BenchmarkDotNet shortens parameter values past 20 characters).</summary>
    private sealed class WholeFileNames : ManualConfig
    {
        public WholeFileNames() => SummaryStyle = SummaryStyle.Default.WithMaxParameterColumnWidth(80);
    }
}
