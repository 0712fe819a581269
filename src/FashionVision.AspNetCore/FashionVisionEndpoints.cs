using System.Diagnostics;
using System.Globalization;
using FashionVision.Imaging;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FashionVision.AspNetCore;

/// <summary>
/// Maps the FashionVision endpoints: <c>POST /predict</c>, <c>POST /gradcam</c>, <c>GET /model</c>, <c>GET /models</c> and
/// <c>GET /health</c>. Every refusal is a 4xx (or 503/504) with a one-line JSON problem-details body
/// (<c>application/problem+json</c>) whose <c>detail</c> says what is wrong.
/// </summary>
public static class FashionVisionEndpoints
{
    /// <summary>Maps the endpoints under <paramref name="prefix"/> (e.g. "/api"; empty for the root).</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="prefix">The route prefix.</param>
    /// <returns>The route group, to add authorization, rate limiting, CORS, ...</returns>
    /// <remarks>
    /// <c>POST /predict?model=NAME&amp;top=K</c>: a multipart form with one or more image files, or one image as the raw body
    /// (<c>image/*</c> or <c>application/octet-stream</c>); answers <see cref="PredictResponse"/>.
    /// <c>POST /gradcam?model=NAME</c>: one image, the same way; answers the Grad-CAM overlay of the predicted class as
    /// <c>image/png</c> (the class in the <c>X-FashionVision-Class</c> header); 404 when the model has no checkpoint.
    /// <c>GET /model?model=NAME</c>: <see cref="ModelDescription"/>; <c>GET /models</c>: all of them;
    /// <c>GET /health</c>: <see cref="HealthResponse"/>.
    /// </remarks>
    public static RouteGroupBuilder MapFashionVision(this IEndpointRouteBuilder endpoints, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        var group = endpoints.MapGroup(prefix);
        group.MapPost("/predict", PredictAsync).DisableAntiforgery();
        group.MapPost("/gradcam", GradCamAsync).DisableAntiforgery();
        group.MapGet("/model", (ServedModels models, string? model) => Guard(() => Results.Ok(Describe(models, models.Get(model)))));
        group.MapGet("/models", (ServedModels models) => Results.Ok(models.All.Select(m => Describe(models, m)).ToArray()));
        group.MapGet("/health", Health);
        return group;
    }

    private static IResult Health(ServedModels models)
    {
        using var process = Process.GetCurrentProcess();
        return Results.Ok(new HealthResponse("ok", models.All.Count(), (DateTime.Now - process.StartTime).TotalSeconds,
            process.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false),
            models.All.Sum(m => m.Batcher.Runs), models.All.Sum(m => m.Batcher.Images)));
    }

    private static Task<IResult> PredictAsync(HttpContext context, ServedModels models, ILoggerFactory loggers, string? model, int? top) =>
        HandleAsync(context, models, loggers, model, check: null, async (images, pixels, served, cancellationToken) =>
        {
            var k = Math.Clamp(top ?? models.Options.TopK, 1, served.ClassNames.Count);
            var predictions = await served.Batcher.PredictAsync(pixels, images.Count, k, cancellationToken).ConfigureAwait(false);
            var results = images.Select((image, i) => new ImagePrediction(image.Name, predictions[i].ClassIndex, predictions[i].ClassName, predictions[i].Confidence,
                predictions[i].TopK.Select(c => new ClassScore(c.ClassIndex, c.ClassName, c.Probability)).ToArray())).ToArray();
            return Results.Ok(new PredictResponse(served.Name, served.Version, results));
        });

    private static Task<IResult> GradCamAsync(HttpContext context, ServedModels models, ILoggerFactory loggers, string? model) =>
        HandleAsync(context, models, loggers, model, check: (images, served) =>
        {
            if (served.Explainer is null)
                throw new RequestRejectedException(StatusCodes.Status404NotFound,
                    $"the model '{served.Name}' has no checkpoint configured ({FashionVisionServerOptions.SectionName}:Models:{served.Name}:CheckpointPath), so it has no Grad-CAM.");
            if (images.Count != 1)
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, $"Grad-CAM explains one image per request, not {images.Count}.");
        }, (_, pixels, served, _) =>
        {
            var (png, classIndex) = served.Explainer!.Explain(pixels);
            context.Response.Headers["X-FashionVision-Class"] = Uri.EscapeDataString(served.ClassNames[classIndex]);
            return Task.FromResult(Results.Bytes(png, "image/png"));
        });

    /// <summary>
    /// The shared frame of the POST endpoints: model lookup, the request timeout, reading the images, the decoding budget
    /// (the request's pixels counted from the image headers, checked against the per-request limit, then reserved under the
    /// server-wide budget for as long as the images are being decoded), and every refusal as problem details.
    /// </summary>
    private static async Task<IResult> HandleAsync(HttpContext context, ServedModels models, ILoggerFactory loggers, string? model,
        Action<IReadOnlyList<UploadedImage>, ServedModel>? check,
        Func<IReadOnlyList<UploadedImage>, float[], ServedModel, CancellationToken, Task<IResult>> handle)
    {
        var options = models.Options;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(options.RequestTimeout);
        try
        {
            var served = models.Get(model);
            var images = await ImageRequestReader.ReadAsync(context.Request, options, timeout.Token).ConfigureAwait(false);
            check?.Invoke(images, served);
            var decodedPixels = images.Sum(image => DecodedSize.Of(image, served.DecodeOptions));
            if (decodedPixels > options.MaxRequestPixels)
                throw new RequestRejectedException(StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture,
                    $"the request's {images.Count} image(s) would decode to {decodedPixels:N0} pixels; at most {options.MaxRequestPixels:N0} are decoded per request."));
            float[] pixels;
            var lease = await models.Decoding.ReserveAsync(decodedPixels, options.DecodeQueueTimeout, timeout.Token).ConfigureAwait(false);
            try
            {
                pixels = Decode(images, served, timeout.Token);
            }
            finally
            {
                DecodeMemoryReclaimer.AfterDecoding(decodedPixels);
                lease.Dispose();
                models.Reclaimer.AfterRelease(decodedPixels, idle: models.Decoding.InFlight == 0);
            }
            return await handle(images, pixels, served, timeout.Token).ConfigureAwait(false);
        }
        catch (RequestRejectedException e)
        {
            if (e.StatusCode == StatusCodes.Status408RequestTimeout)
                context.Response.Headers.Connection = "close";
            return Problem(e.StatusCode, e.Message);
        }
        catch (ImageDecodeException e)
        {
            return Problem(StatusCodes.Status422UnprocessableEntity, e.Message);
        }
        catch (ServerBusyException e)
        {
            context.Response.Headers.RetryAfter = "1";
            return Problem(StatusCodes.Status503ServiceUnavailable, e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client is gone: nobody reads an answer.
            return Results.Empty;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(FashionVisionEndpoints)).LogWarning("A request to {Path} timed out after {Timeout}", context.Request.Path, options.RequestTimeout);
            return Problem(StatusCodes.Status504GatewayTimeout, $"the request did not finish within {options.RequestTimeout.TotalSeconds:0.###} s.");
        }
    }

    /// <summary>Decodes every image at the model's input size into one N×C×H×W buffer.</summary>
    private static float[] Decode(IReadOnlyList<UploadedImage> images, ServedModel served, CancellationToken cancellationToken)
    {
        var (channels, height, width) = served.InputShape;
        var size = channels * height * width;
        var pixels = new float[images.Count * size];
        for (var i = 0; i < images.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ImageDecoder.Decode(images[i].Bytes, served.DecodeOptions, images[i].Name).CopyTo(pixels, i * size);
        }
        return pixels;
    }

    private static IResult Guard(Func<IResult> handle)
    {
        try
        {
            return handle();
        }
        catch (RequestRejectedException e)
        {
            return Problem(e.StatusCode, e.Message);
        }
    }

    private static IResult Problem(int statusCode, string detail) => Results.Problem(detail: detail, statusCode: statusCode);

    private static ModelDescription Describe(ServedModels models, ServedModel model) =>
        new(model.Name, model.Version, model.ClassNames, [model.InputShape.Channels, model.InputShape.Height, model.InputShape.Width],
            model.Options.Style.ToString(), model.HasGradCam, ReferenceEquals(model, models.Default));
}
