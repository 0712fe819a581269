using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FashionVision.AspNetCore.Tests;

/// <summary>
/// Bodies that stop arriving before their Content-Length, against the app on a real Kestrel socket (the in-memory test server
/// has no body draining, which is where the request reader and a racing timeout used to collide). The client speaks raw HTTP/1.1
/// so that it can lie about the length.
/// </summary>
public sealed class SlowBodyTests
{
    private const int DeclaredLength = 4096;
    private CapturedLogs _logs = null!;
    private WebAppFactory _factory = null!;
    private Uri _url = null!;

    [OneTimeSetUp]
    public void StartServer()
    {
        _logs = new CapturedLogs();
        _factory = new WebAppFactory(new Dictionary<string, string?> { ["FashionVision:RequestTimeout"] = "00:00:02" }, kestrel: true, logs: _logs);
        _factory.StartServer();
        _url = _factory.ClientOptions.BaseAddress;
    }

    [OneTimeTearDown]
    public void StopServer()
    {
        _factory.Dispose();
        _logs.Dispose();
    }

    [Test]
    public async Task BodyThatStopsArrivingIs408WithNoErrorLogged()
    {
        var logged = _logs.Entries.Count;
        using var socket = await SendShortBody();
        var (head, body) = await ReadResponse(socket);
        Assert.Multiple(() =>
        {
            Assert.That(head, Does.StartWith("HTTP/1.1 408"), head + body);
            Assert.That(head, Does.Contain("Connection: close").IgnoreCase);
            Assert.That(body, Does.Contain("the request body stopped arriving: 100 of the 4,096 declared bytes came within the 2 s request timeout."));
            Assert.That(body, Does.Not.Contain('\n'), "one line");
        });
        // Kestrel drains the rest of the body (up to 5 s) and then closes the connection; that is where the race logged its error.
        await WaitForClose(socket, TimeSpan.FromSeconds(15));
        Assert.That(_logs.AtLeast(LogLevel.Warning, skip: logged), Is.Empty);
    }

    [Test]
    public async Task HalfClosedShortBodyIsAClosedConnectionWithNoErrorLogged()
    {
        // Kestrel takes the client's FIN for the end of the connection, so no answer can be written: the connection must
        // end cleanly (a FIN, not a reset) and nothing must be logged as an error, the server's own code included.
        var logged = _logs.Entries.Count;
        using var socket = await SendShortBody();
        socket.Shutdown(SocketShutdown.Send);
        await WaitForClose(socket, TimeSpan.FromSeconds(15));
        await Task.Delay(500);
        Assert.That(_logs.AtLeast(LogLevel.Warning, skip: logged), Is.Empty);
    }

    /// <summary>Connects, sends a POST /predict declaring <see cref="DeclaredLength"/> bytes and sends 100 of them.</summary>
    private async Task<Socket> SendShortBody()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(_url.Host, _url.Port);
        var head = $"POST /predict HTTP/1.1\r\nHost: {_url.Host}:{_url.Port}\r\nContent-Type: image/png\r\nContent-Length: {DeclaredLength}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        await socket.SendAsync(TestImages.Png(0)[..100]);
        return socket;
    }

    /// <summary>Reads one response (its head, and its body whether sized by Content-Length or chunked), failing after 30 s.</summary>
    private static async Task<(string Head, string Body)> ReadResponse(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var received = new List<byte>();
        var chunk = new byte[4096];
        while (true)
        {
            var text = Encoding.UTF8.GetString(received.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                var head = text[..end];
                var rest = text[(end + 4)..];
                if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase))
                {
                    if (rest.Contains("0\r\n\r\n", StringComparison.Ordinal))
                        return (head, Dechunk(rest));
                }
                else
                {
                    var length = head.Split("\r\n").Select(l => l.Split(':', 2)).Where(p => p.Length == 2 && p[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                        .Select(p => int.Parse(p[1].Trim())).FirstOrDefault();
                    if (received.Count >= end + 4 + length)
                        return (head, Encoding.UTF8.GetString(received.ToArray(), end + 4, length));
                }
            }
            var read = await socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token);
            if (read == 0)
                Assert.Fail($"the server closed the connection without a whole response (received: '{text}')");
            received.AddRange(chunk[..read]);
        }
    }

    private static string Dechunk(string chunked)
    {
        var body = new StringBuilder();
        var at = 0;
        while (true)
        {
            var line = chunked.IndexOf("\r\n", at, StringComparison.Ordinal);
            var size = Convert.ToInt32(chunked[at..line], 16);
            if (size == 0)
                return body.ToString();
            body.Append(chunked, line + 2, size);
            at = line + 2 + size + 2;
        }
    }

    /// <summary>Waits until the server closes the connection with a FIN (a reset fails the test with a SocketException).</summary>
    private static async Task WaitForClose(Socket socket, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        var chunk = new byte[1024];
        while (await socket.ReceiveAsync(chunk, SocketFlags.None, timeout.Token) > 0)
        {
        }
    }
}
