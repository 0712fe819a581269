using FashionVision.Imaging;

namespace FashionVision.AspNetCore;

/// <summary>
/// How the FashionVision endpoints serve: the models, the limits every request is held to, and micro-batching. Bound from the
/// configuration section <see cref="SectionName"/> (appsettings.json, environment variables such as
/// <c>FashionVision__Models__fashion__OnnxPath</c>, or <c>--FashionVision:Models:fashion:OnnxPath=...</c>).
/// </summary>
public sealed record FashionVisionServerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "FashionVision";

    /// <summary>The models served, by name (the name is what <c>?model=</c> selects).</summary>
    public Dictionary<string, ServedModelOptions> Models { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The model used when a request names none. Null: the first configured model in name order.</summary>
    public string? DefaultModel { get; init; }

    /// <summary>The largest request body accepted, in bytes; a larger one gets 413 before it is read.</summary>
    public long MaxRequestBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>The most images one request may carry; more get 413 without any being decoded.</summary>
    public int MaxImagesPerRequest { get; init; } = 64;

    /// <summary>
    /// The most pixels an uploaded image may declare (width × height); a larger one (a "decompression bomb": a small file that
    /// declares huge dimensions) gets 422 before any pixel is decoded. The default fits a 16-megapixel photo.
    /// </summary>
    public long MaxImagePixels { get; init; } = 4096L * 4096;

    /// <summary>How long one request may take from its first byte to its answer; a slower one gets 504.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many classes each prediction lists when the request does not say (<c>?top=</c>).</summary>
    public int TopK { get; init; } = 3;

    /// <summary>How concurrent requests are gathered into one model run.</summary>
    public BatchingOptions Batching { get; init; } = new();

    /// <summary>Checks every option and throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public void Validate()
    {
        if (Models is null || Models.Count == 0)
            throw new ArgumentException($"No model is configured: set {SectionName}:Models:<name>:OnnxPath.", nameof(Models));
        foreach (var (name, model) in Models)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException("A model name must not be empty.", nameof(Models));
            ArgumentNullException.ThrowIfNull(model, $"{nameof(Models)}:{name}");
            model.Validate($"{SectionName}:{nameof(Models)}:{name}");
        }
        if (DefaultModel is not null && !Models.ContainsKey(DefaultModel))
            throw new ArgumentException($"{SectionName}:{nameof(DefaultModel)} '{DefaultModel}' is not one of the configured models ({string.Join(", ", Models.Keys)}).", nameof(DefaultModel));
        if (MaxRequestBytes < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxRequestBytes), MaxRequestBytes, "The request size limit must be positive.");
        if (MaxImagesPerRequest < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxImagesPerRequest), MaxImagesPerRequest, "At least one image per request must be allowed.");
        if (MaxImagePixels is < 1 or > ImageDecoder.MaxPixels)
            throw new ArgumentOutOfRangeException(nameof(MaxImagePixels), MaxImagePixels, $"The pixel limit must be between 1 and {ImageDecoder.MaxPixels}.");
        if (RequestTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(RequestTimeout), RequestTimeout, "The request timeout must be positive.");
        if (TopK < 1)
            throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be at least 1.");
        ArgumentNullException.ThrowIfNull(Batching, nameof(Batching));
        Batching.Validate();
        if (Batching.QueueCapacity < MaxImagesPerRequest)
            throw new ArgumentOutOfRangeException(nameof(Batching), Batching.QueueCapacity, $"Batching:QueueCapacity ({Batching.QueueCapacity}) must hold at least one full request ({MaxImagesPerRequest} images).");
    }

    /// <summary>The name of the model a request gets when it names none.</summary>
    internal string DefaultModelName => DefaultModel ?? Models.Keys.Order(StringComparer.OrdinalIgnoreCase).First();
}
