// A bounded load test of the FashionVision web app (samples/09-WebApp), on this machine only.
//
//   dotnet run -c Release --project samples/09-WebApp &                                     # the server, on 127.0.0.1:5080
//   dotnet run -c Release --project benchmarks/FashionVision.LoadTest -- --url http://127.0.0.1:5080 --clients 8 --duration 30s
//
// N clients each send one request after another (a multipart POST /predict with real Fashion-MNIST test images as PNG
// files) for a warm-up, then for the measured duration or until --max-requests, whichever comes first. It reports
// requests/s, latency percentiles, errors (any answer but 200), and the server's memory (RSS and .NET heap, from GET
// /health) after the warm-up and after the run. It refuses any address but the loopback. Exit code 1 when a request failed.
//
// The soak (--soak): the same clients send a mix of good and hostile uploads (truncated PNG, zero-byte file, text named
// .png, 2048×1536 and 4096×4096 all-zero PNGs, two 2048×1536 ones in one request) for --warmup plus --duration, sampling the server's memory
// every --sample-every into a CSV file (--csv) and a PNG plot (--plot); give --server-pid to read the server's RSS from
// /proc/PID/status. Exit code 1 when any answer was not the one expected for its upload.
//
//   nice -n 5 dotnet run -c Release --project benchmarks/FashionVision.LoadTest -- --soak --clients 8 --warmup 60s --duration 10m \
//     --server-pid $(pgrep -f FashionVision.WebApp) --csv soak.csv --plot soak.png
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FashionVision.Data;
using FashionVision.Visualization;

var url = new Option<string>("--url") { Description = "The server (loopback only)", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
var clients = new Option<int>("--clients") { Description = "Concurrent clients", DefaultValueFactory = _ => 8 };
var duration = new Option<string>("--duration") { Description = "Measured time (e.g. 30s, 2m)", DefaultValueFactory = _ => "30s" };
var warmup = new Option<string>("--warmup") { Description = "Warm-up time before measuring", DefaultValueFactory = _ => "5s" };
var maxRequests = new Option<int>("--max-requests") { Description = "Stop the measured phase after this many requests", DefaultValueFactory = _ => 100_000 };
var imagesPerRequest = new Option<int>("--images-per-request") { Description = "Images in each request's multipart form", DefaultValueFactory = _ => 1 };
var model = new Option<string?>("--model") { Description = "The model to ask (?model=); default: the server's default" };
var soak = new Option<bool>("--soak") { Description = "Mixed good and hostile uploads, sampling the server's memory (see --csv, --plot)" };
var serverPid = new Option<int?>("--server-pid") { Description = "Soak: the server's process id, to read its RSS from /proc/PID/status" };
var sampleEvery = new Option<string>("--sample-every") { Description = "Soak: memory sampling period", DefaultValueFactory = _ => "10s" };
var csv = new Option<string>("--csv") { Description = "Soak: the CSV file of memory samples", DefaultValueFactory = _ => "soak.csv" };
var plot = new Option<string?>("--plot") { Description = "Soak: a PNG plot of the memory samples" };
var root = new RootCommand("Bounded load test of the FashionVision web app on 127.0.0.1.") { url, clients, duration, warmup, maxRequests, imagesPerRequest, model, soak, serverPid, sampleEvery, csv, plot };
root.SetAction(async (parse, cancellationToken) =>
{
    if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var server) || !IsLoopback(server))
    {
        Console.Error.WriteLine($"error: --url must be an http URL on a loopback address (127.0.0.0/8, localhost or [::1]), not '{parse.GetValue(url)}'.");
        return 2;
    }
    int n = parse.GetValue(clients), limit = parse.GetValue(maxRequests), perRequest = parse.GetValue(imagesPerRequest);
    if (n is < 1 or > 256 || limit < 1 || perRequest is < 1 or > 64)
    {
        Console.Error.WriteLine("error: --clients must be 1-256, --max-requests at least 1, --images-per-request 1-64.");
        return 2;
    }
    if (!TryParseDuration(parse.GetValue(duration)!, out var measured) || !TryParseDuration(parse.GetValue(warmup)!, out var warm) || measured > TimeSpan.FromMinutes(30))
    {
        Console.Error.WriteLine("error: --duration and --warmup are like 30s, 2m or 500ms (at most 30 minutes).");
        return 2;
    }

    if (!TryParseDuration(parse.GetValue(sampleEvery)!, out var every) || every < TimeSpan.FromSeconds(1))
    {
        Console.Error.WriteLine("error: --sample-every is like 10s (at least 1 s).");
        return 2;
    }
    if (parse.GetValue(serverPid) is { } pid && !File.Exists($"/proc/{pid}/status"))
    {
        Console.Error.WriteLine($"error: --server-pid {pid}: no such process (/proc/{pid}/status does not exist).");
        return 2;
    }

    var uploads = TestPngs(16);
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = n, PooledConnectionLifetime = TimeSpan.FromMinutes(30) })
    {
        BaseAddress = server,
        Timeout = TimeSpan.FromSeconds(30),
    };
    var path = "/predict" + (parse.GetValue(model) is { Length: > 0 } name ? "?model=" + Uri.EscapeDataString(name) : "");

    if (parse.GetValue(soak))
        return await Soak.RunAsync(http, uploads, n, warm, measured, every, parse.GetValue(serverPid), parse.GetValue(csv)!, parse.GetValue(plot), cancellationToken);

    var health0 = await Health(http, cancellationToken);
    Console.WriteLine($"Server {server}: {health0.GetProperty("models").GetInt32()} model(s); {n} clients, {perRequest} image(s) per request, warm-up {warm.TotalSeconds:0.#} s, then {measured.TotalSeconds:0.#} s or {limit:N0} requests");
    if (warm > TimeSpan.Zero)
        await Run(http, path, uploads, n, perRequest, warm, int.MaxValue, cancellationToken);
    var before = await Health(http, cancellationToken);
    var result = await Run(http, path, uploads, n, perRequest, measured, limit, cancellationToken);
    var after = await Health(http, cancellationToken);

    var latencies = result.Latencies.Order().ToArray();
    double Percentile(double p) => latencies.Length == 0 ? double.NaN : latencies[Math.Clamp((int)Math.Ceiling(p * latencies.Length) - 1, 0, latencies.Length - 1)];
    long Delta(string key) => after.GetProperty(key).GetInt64() - before.GetProperty(key).GetInt64();
    long rssBefore = before.GetProperty("workingSetBytes").GetInt64(), rssAfter = after.GetProperty("workingSetBytes").GetInt64();
    var seconds = result.Elapsed.TotalSeconds;
    Console.WriteLine($"Requests:   {result.Requests:N0} in {seconds:0.0} s = {result.Requests / seconds:N1} requests/s ({result.Requests * perRequest / seconds:N1} images/s)");
    Console.WriteLine($"Latency:    p50 {Percentile(0.50):0.0} ms, p95 {Percentile(0.95):0.0} ms, p99 {Percentile(0.99):0.0} ms, max {Percentile(1):0.0} ms");
    Console.WriteLine($"Errors:     {result.Errors.Values.Sum()}" + (result.Errors.Count == 0 ? "" : " (" + string.Join(", ", result.Errors.Select(e => $"{e.Key}: {e.Value}")) + ")"));
    Console.WriteLine($"Batching:   {Delta("images"):N0} images in {Delta("modelRuns"):N0} model runs ({(double)Delta("images") / Math.Max(1, Delta("modelRuns")):0.00} images per run)");
    Console.WriteLine($"Server RSS: {rssBefore / 1048576.0:N1} MiB after warm-up → {rssAfter / 1048576.0:N1} MiB after the run ({(rssAfter - rssBefore) / 1048576.0:+0.0;-0.0} MiB); .NET heap {before.GetProperty("managedHeapBytes").GetInt64() / 1048576.0:N1} → {after.GetProperty("managedHeapBytes").GetInt64() / 1048576.0:N1} MiB");
    Console.WriteLine($"Row:        | {DateTime.UtcNow:yyyy-MM-dd} | {n} | {perRequest} | {seconds:0} s | {result.Requests:N0} | {result.Requests / seconds:N0} | {Percentile(0.50):0.0} / {Percentile(0.95):0.0} / {Percentile(0.99):0.0} ms | {result.Errors.Values.Sum()} | {rssBefore / 1048576.0:N0} → {rssAfter / 1048576.0:N0} MiB |");
    return result.Errors.Count == 0 ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();

static bool IsLoopback(Uri uri) =>
    uri.IsAbsoluteUri && uri.Scheme is "http" or "https" &&
    (uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var address) && IPAddress.IsLoopback(address)));

static bool TryParseDuration(string text, out TimeSpan value)
{
    value = default;
    var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
        : text.EndsWith('s') ? (text[..^1], 1.0)
        : text.EndsWith('m') ? (text[..^1], 60.0)
        : (text, 1.0);
    if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || amount < 0 || !double.IsFinite(amount))
        return false;
    value = TimeSpan.FromSeconds(amount * unit);
    return true;
}

static byte[][] TestPngs(int count)
{
    using var test = new FashionMnistSource().Load(DatasetSplit.Test);
    return Enumerable.Range(0, count).Select(i =>
    {
        using var image = test.Images[i].to_type(TorchSharp.torch.ScalarType.Float32).div(255);
        return TensorImages.EncodePng(image);
    }).ToArray();
}

static async Task<JsonElement> Health(HttpClient http, CancellationToken cancellationToken)
{
    using var response = await http.GetAsync("/health", cancellationToken);
    response.EnsureSuccessStatusCode();
    return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
}

static async Task<LoadResult> Run(HttpClient http, string path, byte[][] uploads, int clients, int perRequest, TimeSpan duration, int maxRequests, CancellationToken cancellationToken)
{
    var latencies = new List<double>[clients];
    var errors = new Dictionary<string, int>();
    var issued = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
    {
        var mine = latencies[c] = [];
        for (var r = c; clock.Elapsed < duration && Interlocked.Increment(ref issued) <= maxRequests && !cancellationToken.IsCancellationRequested; r += clients)
        {
            using var form = new MultipartFormDataContent();
            for (var i = 0; i < perRequest; i++)
            {
                var file = new ByteArrayContent(uploads[(r * perRequest + i) % uploads.Length]);
                file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
                form.Add(file, "image", $"test-{i}.png");
            }
            var start = Stopwatch.GetTimestamp();
            string? error = null;
            try
            {
                using var response = await http.PostAsync(path, form, cancellationToken);
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                if (response.StatusCode != HttpStatusCode.OK)
                    error = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                error = e.GetType().Name;
            }
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (error is null)
                mine.Add(elapsed);
            else
                lock (errors)
                    errors[error] = errors.GetValueOrDefault(error) + 1;
        }
    }));
    clock.Stop();
    var all = latencies.SelectMany(l => l).ToList();
    return new LoadResult(all.Count + errors.Values.Sum(), clock.Elapsed, all, errors);
}

internal sealed record LoadResult(int Requests, TimeSpan Elapsed, List<double> Latencies, Dictionary<string, int> Errors);
