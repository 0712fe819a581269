using System.Security.Cryptography;
using FashionVision.Imaging;
using FashionVision.Onnx;
using Microsoft.Extensions.Logging;

namespace FashionVision.AspNetCore;

/// <summary>
/// One model the server answers with: the ONNX Runtime predictor behind its micro-batcher, how uploads are decoded for it, and
/// (when a checkpoint is configured) its Grad-CAM explainer.
/// </summary>
public sealed class ServedModel : IAsyncDisposable
{
    private readonly OnnxPredictor _predictor;
    private readonly GradCamExplainer? _explainer;

    internal ServedModel(string name, ServedModelOptions options, FashionVisionServerOptions server, ILoggerFactory loggers)
    {
        Name = name;
        Options = options;
        var path = Path.GetFullPath(options.OnnxPath);
        _predictor = OnnxPredictor.Load(path, new OnnxPredictorOptions { IntraOpThreads = options.IntraOpThreads });
        try
        {
            Version = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)))[..12];
            var (channels, height, width) = _predictor.InputShape;
            DecodeOptions = options.DecodeOptions with { Channels = channels, Height = height, Width = width, MaxPixels = server.MaxImagePixels };
            if (options.CheckpointPath is { } checkpoint)
                _explainer = new GradCamExplainer(Path.GetFullPath(checkpoint), _predictor.ClassNames, _predictor.InputShape);
            Batcher = new MicroBatcher(_predictor, server.Batching, loggers.CreateLogger<MicroBatcher>());
        }
        catch
        {
            _explainer?.Dispose();
            _predictor.Dispose();
            throw;
        }
    }

    /// <summary>The model's name (its key in <see cref="FashionVisionServerOptions.Models"/>).</summary>
    public string Name { get; }

    /// <summary>How it was configured.</summary>
    public ServedModelOptions Options { get; }

    /// <summary>The first 12 hex digits of the ONNX file's SHA-256: changes whenever the served file does.</summary>
    public string Version { get; }

    /// <summary>The class names, in class-index order.</summary>
    public IReadOnlyList<string> ClassNames => _predictor.ClassNames;

    /// <summary>Channels, height and width of the model's input.</summary>
    public (int Channels, int Height, int Width) InputShape => _predictor.InputShape;

    /// <summary>How uploads are decoded for this model (its input size, its <see cref="ImageStyle"/>, the server's pixel limit).</summary>
    public ImageDecodeOptions DecodeOptions { get; }

    /// <summary>The micro-batcher every prediction goes through.</summary>
    public MicroBatcher Batcher { get; }

    /// <summary>Whether <c>/gradcam</c> works for this model (a checkpoint is configured).</summary>
    public bool HasGradCam => _explainer is not null;

    internal GradCamExplainer? Explainer => _explainer;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Batcher.DisposeAsync().ConfigureAwait(false);
        _explainer?.Dispose();
        _predictor.Dispose();
    }
}
