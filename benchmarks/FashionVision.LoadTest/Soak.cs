using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using SkiaSharp;

/// <summary>
/// The soak: N clients send a fixed mix of good and hostile uploads for a long time while the server's memory is sampled, to
/// tell warm-up from growth. Every 10 s (by default) it records the server's resident memory (VmRSS from /proc/PID/status
/// when the server's process id is given, else the working set /health reports) and its .NET heap (from /health) in a CSV
/// file, and at the end draws both as a PNG.
/// </summary>
internal static class Soak
{
    /// <summary>One kind of upload in the mix, its weight (how many of every cycle of requests are of that kind), and the answers that are right for it.</summary>
    private sealed record Kind(string Name, int Weight, HttpStatusCode[] Expected, Func<int, HttpContent> Content);

    public static async Task<int> RunAsync(HttpClient http, byte[][] goodPngs, int clients, TimeSpan warmup, TimeSpan duration, TimeSpan every,
        int? serverPid, string csvPath, string? plotPath, CancellationToken cancellationToken)
    {
        var kinds = Mix(goodPngs);
        var cycle = kinds.SelectMany(k => Enumerable.Repeat(k, k.Weight)).ToArray();
        Console.WriteLine($"Soak: {clients} clients, warm-up {warmup.TotalSeconds:0} s, then {duration.TotalMinutes:0.#} min; every {cycle.Length} requests: "
                          + string.Join(", ", kinds.Select(k => $"{k.Weight} {k.Name}")));
        Console.WriteLine($"Memory every {every.TotalSeconds:0} s from " + (serverPid is { } p ? $"/proc/{p}/status (VmRSS) and /health (.NET heap)" : "/health"));

        var counts = kinds.ToDictionary(k => k.Name, _ => new Dictionary<string, int>());
        var unexpected = 0;
        long requests = 0;
        long issued = -1;
        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        var end = warmup + duration;

        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(every);
            do
            {
                var (rss, heap) = await Memory(http, serverPid, cancellationToken);
                lock (samples)
                    samples.Add(new Sample(clock.Elapsed.TotalSeconds, rss, heap, Interlocked.Read(ref requests), Volatile.Read(ref unexpected)));
            }
            while (await timer.WaitForNextTickAsync(sampling.Token).ConfigureAwait(false));
        }, CancellationToken.None);

        var latencies = new List<double>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            while (clock.Elapsed < end && !cancellationToken.IsCancellationRequested)
            {
                // One sequence shared by all clients, so that every client sends every kind.
                var r = (int)(Interlocked.Increment(ref issued) % cycle.Length);
                var kind = cycle[r];
                var start = Stopwatch.GetTimestamp();
                string answer;
                try
                {
                    using var content = kind.Content(r);
                    using var response = await http.PostAsync("/predict", content, cancellationToken);
                    await response.Content.LoadIntoBufferAsync(cancellationToken);
                    answer = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
                    if (!kind.Expected.Contains(response.StatusCode))
                        Interlocked.Increment(ref unexpected);
                    else if (response.StatusCode == HttpStatusCode.OK && clock.Elapsed > warmup)
                        lock (latencies)
                            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    answer = e.GetType().Name;
                    Interlocked.Increment(ref unexpected);
                }
                Interlocked.Increment(ref requests);
                var byAnswer = counts[kind.Name];
                lock (byAnswer)
                    byAnswer[answer] = byAnswer.GetValueOrDefault(answer) + 1;
            }
        }));
        await sampling.CancelAsync();
        try
        {
            await sampler;
        }
        catch (OperationCanceledException)
        {
        }
        var (lastRss, lastHeap) = await Memory(http, serverPid, cancellationToken);
        samples.Add(new Sample(clock.Elapsed.TotalSeconds, lastRss, lastHeap, requests, unexpected));

        WriteCsv(csvPath, samples);
        if (plotPath is not null)
            Plot(plotPath, samples, warmup);

        Console.WriteLine($"Requests:   {requests:N0} in {clock.Elapsed.TotalSeconds:0} s ({requests / clock.Elapsed.TotalSeconds:N1} requests/s), unexpected answers: {unexpected}");
        foreach (var kind in kinds)
            Console.WriteLine($"  {kind.Name,-22} " + string.Join(", ", counts[kind.Name].OrderBy(a => a.Key).Select(a => $"{a.Key}: {a.Value:N0}"))
                                                 + $"   (expected {string.Join(" or ", kind.Expected.Select(s => (int)s))})");
        latencies.Sort();
        if (latencies.Count > 0)
            Console.WriteLine($"Latency of good uploads after warm-up: p50 {latencies[latencies.Count / 2]:0} ms, p99 {latencies[Math.Min(latencies.Count - 1, (int)(latencies.Count * 0.99))]:0} ms");
        var warm = samples.Where(s => s.Seconds >= warmup.TotalSeconds).ToArray();
        if (warm.Length >= 2)
        {
            var first = warm[0];
            var last = warm[^1];
            var slope = Slope(warm.Select(s => s.Seconds / 60).ToArray(), warm.Select(s => s.RssBytes / 1048576.0).ToArray());
            Console.WriteLine($"Server RSS: {samples[0].RssBytes / 1048576.0:N1} MiB at the start, {first.RssBytes / 1048576.0:N1} MiB after warm-up, {last.RssBytes / 1048576.0:N1} MiB at the end "
                              + $"(max {warm.Max(s => s.RssBytes) / 1048576.0:N1} MiB; least-squares trend after warm-up {slope:+0.00;-0.00} MiB/min)");
            Console.WriteLine($".NET heap:  {first.HeapBytes / 1048576.0:N1} MiB after warm-up, {last.HeapBytes / 1048576.0:N1} MiB at the end (max {warm.Max(s => s.HeapBytes) / 1048576.0:N1} MiB)");
        }
        if (serverPid is { } server)
        {
            var peak = File.ReadLines($"/proc/{server}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            Console.WriteLine($"Server peak RSS over its life (VmHWM): {long.Parse(peak["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0:N1} MiB");
        }
        Console.WriteLine($"Samples:    {csvPath}" + (plotPath is null ? "" : $", plot {plotPath}"));
        return unexpected == 0 ? 0 : 1;
    }

    /// <summary>The mix: mostly good uploads, and every kind of hostile upload the server must refuse cheaply.</summary>
    private static Kind[] Mix(byte[][] good)
    {
        var truncated = good[3][..(good[3].Length / 2)];
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("not an image, whatever the name says\n", 20)));
        var fits = ZeroPng(2048, 1536);
        var big = ZeroPng(4096, 4096);
        var ok = new[] { HttpStatusCode.OK };
        return
        [
            new("good (1 image)", 64, ok, r => Form(("test.png", good[r % good.Length]))),
            new("good (4 images)", 8, ok, r => Form(Enumerable.Range(0, 4).Select(i => ($"test-{i}.png", good[(r + i) % good.Length])).ToArray())),
            new("truncated PNG", 2, [HttpStatusCode.UnprocessableEntity], _ => Form(("cut.png", truncated))),
            new("zero-byte", 1, [HttpStatusCode.BadRequest], _ => Form(("empty.png", []))),
            new("text named .png", 2, [HttpStatusCode.UnsupportedMediaType], _ => Form(("notes.png", text))),
            // 3.1 M pixels to decode from a few KB, the most a request may: answered, or 503 while the decoding budget is taken
            // (or 504 when the decode outlasts the request timeout on a busy machine).
            new("2048×1536 zero PNG", 1, [HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable, HttpStatusCode.GatewayTimeout], _ => Form(("zero.png", fits))),
            // 16.5 KB on the wire, 16.8 M pixels: over the per-request pixel limit, refused from its header.
            new("4096² zero PNG", 1, [HttpStatusCode.RequestEntityTooLarge], _ => Form(("zero.png", big))),
            new("2 × 2048×1536 in one", 1, [HttpStatusCode.RequestEntityTooLarge], _ => Form(("zero-1.png", fits), ("zero-2.png", fits))),
        ];
    }

    private static MultipartFormDataContent Form(params (string Name, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, bytes) in files)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "image", name);
        }
        return form;
    }

    /// <summary>An all-black PNG (the 4096×4096 one is 16.5 KB).</summary>
    private static byte[] ZeroPng(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Black);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    private static async Task<(long Rss, long Heap)> Memory(HttpClient http, int? serverPid, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/health", cancellationToken);
        response.EnsureSuccessStatusCode();
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var heap = health.RootElement.GetProperty("managedHeapBytes").GetInt64();
        var rss = health.RootElement.GetProperty("workingSetBytes").GetInt64();
        if (serverPid is { } pid)
        {
            var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        return (rss, heap);
    }

    private static void WriteCsv(string path, IReadOnlyList<Sample> samples)
    {
        var csv = new StringBuilder("seconds,rss_mib,heap_mib,requests,unexpected\n");
        foreach (var s in samples)
            csv.Append(CultureInfo.InvariantCulture, $"{s.Seconds:0.0},{s.RssBytes / 1048576.0:0.0},{s.HeapBytes / 1048576.0:0.0},{s.Requests},{s.Unexpected}\n");
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, csv.ToString());
        File.Move(temporary, path, overwrite: true);
    }

    private static void Plot(string path, IReadOnlyList<Sample> samples, TimeSpan warmup)
    {
        var plot = new ScottPlot.Plot();
        plot.Font.Set("DejaVu Sans");
        var minutes = samples.Select(s => s.Seconds / 60).ToArray();
        var rss = plot.Add.Scatter(minutes, samples.Select(s => s.RssBytes / 1048576.0).ToArray());
        rss.LegendText = "server RSS (MiB)";
        var heap = plot.Add.Scatter(minutes, samples.Select(s => s.HeapBytes / 1048576.0).ToArray());
        heap.LegendText = ".NET heap (MiB)";
        var line = plot.Add.VerticalLine(warmup.TotalMinutes);
        line.LegendText = "end of warm-up";
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.Axes.SetLimitsY(0, samples.Max(s => s.RssBytes) / 1048576.0 * 1.15);
        plot.Title("Serving soak: server memory");
        plot.XLabel("minutes");
        plot.YLabel("MiB");
        plot.ShowLegend(ScottPlot.Alignment.LowerRight);
        var temporary = path + ".tmp.png";
        plot.SavePng(temporary, 900, 420);
        File.Move(temporary, path, overwrite: true);
    }

    private static double Slope(double[] x, double[] y)
    {
        var mx = x.Average();
        var my = y.Average();
        var sxx = x.Sum(v => (v - mx) * (v - mx));
        return sxx == 0 ? 0 : x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my)) / sxx;
    }

    private sealed record Sample(double Seconds, long RssBytes, long HeapBytes, long Requests, int Unexpected);
}
