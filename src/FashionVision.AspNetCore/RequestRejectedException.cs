namespace FashionVision.AspNetCore;

/// <summary>A request the server refuses: the HTTP status to answer with and the one-line reason (sent as JSON problem details).</summary>
internal sealed class RequestRejectedException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}
