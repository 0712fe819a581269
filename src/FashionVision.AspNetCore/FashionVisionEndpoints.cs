using System.Diagnostics;
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
        HandleAsync(context, models, loggers, async (images, served, cancellationToken) =>
        {
            var k = Math.Clamp(top ?? models.Options.TopK, 1, served.ClassNames.Count);
            var pixels = Decode(images, served, cancellationToken);
            var predictions = await served.Batcher.PredictAsync(pixels, images.Count, k, cancellationToken).ConfigureAwait(false);
            var results = images.Select((image, i) => new ImagePrediction(image.Name, predictions[i].ClassIndex, predictions[i].ClassName, predictions[i].Confidence,
                predictions[i].TopK.Select(c => new ClassScore(c.ClassIndex, c.ClassName, c.Probability)).ToArray())).ToArray();
            return Results.Ok(new PredictResponse(served.Name, served.Version, results));
        }, model);

    private static Task<IResult> GradCamAsync(HttpContext context, ServedModels models, ILoggerFactory loggers, string? model) =>
        HandleAsync(context, models, loggers, (images, served, cancellationToken) =>
        {
            if (served.Explainer is not { } explainer)
                throw new RequestRejectedException(StatusCodes.Status404NotFound,
                    $"the model '{served.Name}' has no checkpoint configured ({FashionVisionServerOptions.SectionName}:Models:{served.Name}:CheckpointPath), so it has no Grad-CAM.");
            if (images.Count != 1)
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, $"Grad-CAM explains one image per request, not {images.Count}.");
            var (png, classIndex) = explainer.Explain(Decode(images, served, cancellationToken));
            context.Response.Headers["X-FashionVision-Class"] = Uri.EscapeDataString(served.ClassNames[classIndex]);
            return Task.FromResult(Results.Bytes(png, "image/png"));
        }, model);

    /// <summary>The shared frame of the POST endpoints: model lookup, the request timeout, reading the images, and every refusal as problem details.</summary>
    private static async Task<IResult> HandleAsync(HttpContext context, ServedModels models, ILoggerFactory loggers,
        Func<IReadOnlyList<UploadedImage>, ServedModel, CancellationToken, Task<IResult>> handle, string? model)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(models.Options.RequestTimeout);
        try
        {
            var served = models.Get(model);
            var images = await ImageRequestReader.ReadAsync(context.Request, models.Options, timeout.Token).ConfigureAwait(false);
            return await handle(images, served, timeout.Token).ConfigureAwait(false);
        }
        catch (RequestRejectedException e)
        {
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
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            loggers.CreateLogger(typeof(FashionVisionEndpoints)).LogWarning("A request to {Path} timed out after {Timeout}", context.Request.Path, models.Options.RequestTimeout);
            return Problem(StatusCodes.Status504GatewayTimeout, $"the request did not finish within {models.Options.RequestTimeout.TotalSeconds:0.###} s.");
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
