using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FashionVision.AspNetCore;

/// <summary>
/// The models the server answers with, loaded once from <see cref="FashionVisionServerOptions"/> when the app starts (so a
/// missing or broken model file stops the start with a clear error instead of failing the first request).
/// </summary>
public sealed class ServedModels : IAsyncDisposable
{
    private readonly Dictionary<string, ServedModel> _models = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Loads every configured model.</summary>
    public ServedModels(IOptions<FashionVisionServerOptions> options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        Options = options.Value;
        Options.Validate();
        Decoding = new DecodingBudget(Options.MaxDecodingPixels);
        var logger = loggers.CreateLogger<ServedModels>();
        try
        {
            foreach (var (name, model) in Options.Models.OrderBy(m => m.Key, StringComparer.OrdinalIgnoreCase))
            {
                var served = new ServedModel(name, model, Options, loggers);
                _models.Add(name, served);
                logger.LogInformation("Serving model {Name} (version {Version}, {Classes} classes, input {Channels}×{Height}×{Width}, style {Style}, Grad-CAM {GradCam}) from {Path}",
                    name, served.Version, served.ClassNames.Count, served.InputShape.Channels, served.InputShape.Height, served.InputShape.Width,
                    model.Style, served.HasGradCam ? "on" : "off", model.OnnxPath);
            }
        }
        catch
        {
            foreach (var model in _models.Values)
                model.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        Default = _models[Options.DefaultModelName];
    }

    /// <summary>The options the models were loaded with.</summary>
    public FashionVisionServerOptions Options { get; }

    /// <summary>The pixels being decoded right now over all requests, bounded by <see cref="FashionVisionServerOptions.MaxDecodingPixels"/>.</summary>
    internal DecodingBudget Decoding { get; }

    /// <summary>Gives decoding memory back to the system once a burst of large uploads is decoded.</summary>
    internal DecodeMemoryReclaimer Reclaimer { get; } = new();

    /// <summary>The model a request gets when it names none.</summary>
    public ServedModel Default { get; }

    /// <summary>Every model, in name order.</summary>
    public IEnumerable<ServedModel> All => _models.Values;

    /// <summary>The model called <paramref name="name"/>, or the default for null or empty.</summary>
    /// <exception cref="RequestRejectedException">No model has that name (404).</exception>
    internal ServedModel Get(string? name)
    {
        if (string.IsNullOrEmpty(name))
            return Default;
        return _models.TryGetValue(name, out var model)
            ? model
            : throw new RequestRejectedException(404, $"no model is called '{name}'; this server has {string.Join(", ", _models.Keys)}.");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var model in _models.Values)
            await model.DisposeAsync().ConfigureAwait(false);
        _models.Clear();
    }
}
