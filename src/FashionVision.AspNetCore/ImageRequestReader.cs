using System.Globalization;
using System.IO.Pipelines;
using FashionVision.Imaging;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace FashionVision.AspNetCore;

/// <summary>One image taken from a request: a name for messages (the upload's file name, or a position) and its bytes.</summary>
internal sealed record UploadedImage(string Name, byte[] Bytes, ImageFormat Format);

/// <summary>
/// Reads the images of a request, enforcing the limits before anything is decoded: a multipart form (one image per file
/// part) or a raw body (<c>image/*</c> or <c>application/octet-stream</c>); at most
/// <see cref="FashionVisionServerOptions.MaxRequestBytes"/> bytes (checked against Content-Length first, then while reading)
/// and <see cref="FashionVisionServerOptions.MaxImagesPerRequest"/> images; each image's format is sniffed from its first
/// bytes (<see cref="ImageFormatSniffer"/>), never taken from its file name or declared type.
/// </summary>
internal static class ImageRequestReader
{
    /// <summary>File names longer than this are cut in messages.</summary>
    private const int MaxNameLength = 100;

    public static async Task<IReadOnlyList<UploadedImage>> ReadAsync(HttpRequest request, FashionVisionServerOptions options, CancellationToken cancellationToken)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrWhiteSpace(contentType) || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType))
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType,
                "the request has no valid Content-Type; send multipart/form-data with image files, or one image as image/* or application/octet-stream.");
        var multipart = mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase);
        var raw = mediaType.MediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
                  || mediaType.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase);
        if (!multipart && !raw)
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{mediaType.MediaType}' is not accepted; send multipart/form-data with image files, or one image as image/* or application/octet-stream.");

        var body = await ReadBodyAsync(request, options.MaxRequestBytes, options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        if (body.Length == 0)
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, "the request body is empty; it must carry at least one image.");

        var images = new List<UploadedImage>();
        if (raw)
            images.Add(Sniff("request body", body));
        else
        {
            var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
            if (string.IsNullOrEmpty(boundary))
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, "the multipart Content-Type has no boundary.");
            var reader = new MultipartReader(boundary, new MemoryStream(body, writable: false));
            try
            {
                for (var section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false);
                     section is not null;
                     section = await reader.ReadNextSectionAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                        continue;
                    if (images.Count == options.MaxImagesPerRequest)
                        throw new RequestRejectedException(StatusCodes.Status413PayloadTooLarge,
                            $"the request carries more than {options.MaxImagesPerRequest} images; send at most {options.MaxImagesPerRequest} per request.");
                    using var bytes = new MemoryStream();
                    await section.Body.CopyToAsync(bytes, cancellationToken).ConfigureAwait(false);
                    var name = HeaderUtilities.RemoveQuotes(disposition.FileName).Value is { Length: > 0 } file
                        ? file.Length <= MaxNameLength ? file : file[..MaxNameLength] + "…"
                        : $"image {images.Count + 1}";
                    images.Add(Sniff(name, bytes.ToArray()));
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, $"the multipart body is malformed ({e.Message}).");
            }
            if (images.Count == 0)
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, "the multipart form has no file part; send each image as a file.");
        }
        return images;
    }

    /// <summary>
    /// Reads the whole body, refusing more than <paramref name="limit"/> bytes (from Content-Length at once, or while reading).
    /// The reader owns the body alone: the request timeout does not cancel a read it races with (which would leave the server's
    /// body reader mid-read, so that Kestrel could not drain the rest of the body afterwards), it asks the pending read to
    /// return (<see cref="PipeReader.CancelPendingRead"/>), and the read loop then ends cleanly with 408.
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, long limit, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tooLarge = string.Create(CultureInfo.InvariantCulture, $"the request body is larger than the limit of {limit:N0} bytes.");
        if (request.ContentLength > limit)
            throw new RequestRejectedException(StatusCodes.Status413PayloadTooLarge, tooLarge);
        var body = request.BodyReader;
        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 0);
        using (cancellationToken.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), body))
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await body.ReadAsync(CancellationToken.None).ConfigureAwait(false);
                }
                catch (BadHttpRequestException e)
                {
                    // Kestrel's own limits (body size, minimum data rate) and a body that ends before its Content-Length.
                    throw new RequestRejectedException(e.StatusCode, $"the request body could not be read ({e.Message}).");
                }
                var read = result.Buffer;
                try
                {
                    if (buffer.Length + read.Length > limit)
                        throw new RequestRejectedException(StatusCodes.Status413PayloadTooLarge, tooLarge);
                    foreach (var segment in read)
                        buffer.Write(segment.Span);
                }
                finally
                {
                    body.AdvanceTo(read.End);
                }
                if (result.IsCompleted)
                    break;
                if (cancellationToken.IsCancellationRequested)
                {
                    request.HttpContext.RequestAborted.ThrowIfCancellationRequested();
                    var expected = request.ContentLength is { } total ? string.Create(CultureInfo.InvariantCulture, $" of the {total:N0} declared") : "";
                    throw new RequestRejectedException(StatusCodes.Status408RequestTimeout, string.Create(CultureInfo.InvariantCulture,
                        $"the request body stopped arriving: {buffer.Length:N0}{expected} bytes came within the {timeout.TotalSeconds:0.###} s request timeout."));
                }
            }
        }
        if (request.ContentLength is { } declared && buffer.Length < declared)
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, string.Create(CultureInfo.InvariantCulture,
                $"the request body ended after {buffer.Length:N0} of the {declared:N0} bytes its Content-Length declares."));
        return buffer.ToArray();
    }

    private static UploadedImage Sniff(string name, byte[] bytes)
    {
        if (bytes.Length == 0)
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, $"the image '{name}' is empty (0 bytes).");
        var format = ImageFormatSniffer.Detect(bytes);
        if (format == ImageFormat.Unknown)
            throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType,
                $"'{name}' is not a PNG, JPEG, GIF, BMP or WebP image (its content was checked, not its name or declared type).");
        return new UploadedImage(name, bytes, format);
    }
}
