using System.Net;
using System.Net.Sockets;

namespace FashionVision.Tests.Data;

/// <summary>A real HTTP server on 127.0.0.1 that serves files in three ways: intact, corrupted, truncated mid-body.</summary>
internal sealed class LocalHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files;
    private readonly Task _loop;
    private int _requests;

    public LocalHttpServer(Dictionary<string, byte[]> files)
    {
        _files = files;
        int port = FreePort();
        BaseUri = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(BaseUri.ToString());
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUri { get; }

    public Uri Good => new(BaseUri, "good/");

    public Uri Corrupt => new(BaseUri, "corrupt/");

    public Uri Truncated => new(BaseUri, "truncated/");

    public Uri Missing => new(BaseUri, "missing/");

    public int Requests => Volatile.Read(ref _requests);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            Interlocked.Increment(ref _requests);
            var parts = context.Request.Url!.AbsolutePath.Trim('/').Split('/');
            var response = context.Response;
            if (parts.Length != 2 || !_files.TryGetValue(parts[1], out var content) || parts[0] == "missing")
            {
                response.StatusCode = 404;
                response.Close();
                continue;
            }
            try
            {
                switch (parts[0])
                {
                    case "good":
                        response.ContentLength64 = content.Length;
                        await response.OutputStream.WriteAsync(content);
                        response.Close();
                        break;
                    case "corrupt":
                        var corrupted = (byte[])content.Clone();
                        for (int i = 12; i < corrupted.Length - 8; i += 5)
                            corrupted[i] ^= 0xA5;
                        response.ContentLength64 = corrupted.Length;
                        await response.OutputStream.WriteAsync(corrupted);
                        response.Close();
                        break;
                    case "truncated":
                        response.ContentLength64 = content.Length;
                        await response.OutputStream.WriteAsync(content.AsMemory(0, content.Length / 2));
                        await response.OutputStream.FlushAsync();
                        response.Abort();
                        break;
                    default:
                        response.StatusCode = 404;
                        response.Close();
                        break;
                }
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                // The client went away; serve the next request.
            }
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }
}
