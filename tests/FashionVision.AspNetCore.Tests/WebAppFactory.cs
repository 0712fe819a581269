using FashionVision.Onnx;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// Hosts the web app sample (samples/09-WebApp) as it runs for users, with no model configured: the app's first start
/// trains its two models (here LeNet-5 on 1,000 images, 1 epoch: the tests need models that answer, not accurate ones) into
/// a folder shared by every factory of this test run, so only the first start trains.
/// </summary>
internal sealed class WebAppFactory : WebApplicationFactory<Program>
{
    private static readonly string ModelFolder = Path.Combine(Path.GetTempPath(), "fv-webapp-tests-" + Environment.ProcessId);
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly ILoggerProvider? _logs;

    /// <param name="settings">Extra configuration, e.g. lower limits.</param>
    /// <param name="kestrel">Serve on a real socket (127.0.0.1, a free port) for a browser, instead of in memory.</param>
    /// <param name="logs">Also log to this provider (to check what the server logged).</param>
    public WebAppFactory(IReadOnlyDictionary<string, string?>? settings = null, bool kestrel = false, ILoggerProvider? logs = null)
    {
        _settings = settings ?? new Dictionary<string, string?>();
        _logs = logs;
        if (kestrel)
            UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
    }

    /// <summary>The FP32 model the app serves under <paramref name="name"/> ("fashion" or "digits").</summary>
    public static string OnnxPath(string name) => Path.Combine(ModelFolder, $"{name}-lenet5.onnx");

    /// <summary>An in-process ONNX Runtime predictor on the same file the app serves, to check the app's answers against.</summary>
    public static OnnxPredictor LoadPredictor(string name) => OnnxPredictor.Load(OnnxPath(name));

    public static void DeleteModels()
    {
        try { Directory.Delete(ModelFolder, recursive: true); } catch (DirectoryNotFoundException) { } catch (IOException) { }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("FashionVision:FirstRun:Folder", ModelFolder);
        builder.UseSetting("FashionVision:FirstRun:Model", "lenet5");
        builder.UseSetting("FashionVision:FirstRun:TrainImages", "1000");
        builder.UseSetting("FashionVision:FirstRun:Epochs", "1");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
        if (_logs is not null)
            builder.ConfigureLogging(logging => logging.AddProvider(_logs));
    }
}
