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

    /// <summary>
    /// The most pixels one request may decode, over all its images, counted from their headers before any is decoded (a JPEG
    /// or WebP far larger than the model's input counts at the reduced size it is decoded at, so a 12-megapixel phone photo
    /// counts about 0.2 M); more get 413. The default, 2048×1536, is three quarters of <see cref="MaxDecodingPixels"/>, so
    /// that ordinary uploads still find room while the largest request allowed is being decoded.
    /// </summary>
    public long MaxRequestPixels { get; init; } = 2048L * 1536;

    /// <summary>
    /// The most pixels decoded at once over all requests: a request reserves its pixels before decoding and gives them back
    /// once decoded. One that does not fit waits up to <see cref="DecodeQueueTimeout"/> and then gets 503 with
    /// <c>Retry-After</c>; one that can never fit gets 413. Decoding takes about 120 bytes per pixel at its peak
    /// (<see cref="ImageDecoder"/>'s intermediate tensors), so this bounds the server's peak memory: the default, 2048×2048
    /// (4.2 M pixels, about 0.5 GB), keeps the sample web app under 1 GB of resident memory.
    /// </summary>
    public long MaxDecodingPixels { get; init; } = 2048L * 2048;

    /// <summary>How long a request waits for room under <see cref="MaxDecodingPixels"/> before it gets 503.</summary>
    public TimeSpan DecodeQueueTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long one request may take from its first byte to its answer: a body that stops arriving before its Content-Length
    /// gets 408, a request slower than this after its body was read gets 504.
    /// </summary>
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
        if (MaxRequestPixels < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxRequestPixels), MaxRequestPixels, "The per-request pixel limit must be positive.");
        if (MaxDecodingPixels < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxDecodingPixels), MaxDecodingPixels, "The decoding budget must be positive.");
        if (DecodeQueueTimeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(DecodeQueueTimeout), DecodeQueueTimeout, "The decoding queue timeout must not be negative.");
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
