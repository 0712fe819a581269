using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace FashionVision.AspNetCore.Tests;

/// <summary>One in-memory instance of the web app per test class, and the checks the endpoint tests share.</summary>
public abstract class WebAppFixture
{
    private WebAppFactory? _factory;

    protected HttpClient Client { get; private set; } = null!;

    /// <summary>Configuration this class's app gets on top of the defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    [OneTimeSetUp]
    public void StartApp()
    {
        _factory = new WebAppFactory(Settings);
        Client = _factory.CreateClient();
    }

    [OneTimeTearDown]
    public void StopApp()
    {
        Client?.Dispose();
        _factory?.Dispose();
    }

    protected static ByteArrayContent Raw(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    protected static MultipartFormDataContent Form(params (string FileName, byte[] Bytes)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (fileName, bytes) in files)
            form.Add(Raw(bytes, "image/png"), "image", fileName);
        return form;
    }

    protected static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.IsSuccessStatusCode, Is.True, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>A refusal: the status, a one-line JSON problem-details body, and a detail that says what is wrong.</summary>
    protected static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(status), body);
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"), body);
            Assert.That(body, Does.Not.Contain('\n'), "one line");
        });
        using var json = JsonDocument.Parse(body);
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("status").GetInt32(), Is.EqualTo((int)status));
            Assert.That(json.RootElement.GetProperty("detail").GetString(), Does.Contain(detailContains));
        });
    }

    /// <summary>After a refusal the server still answers a good request.</summary>
    protected async Task AssertStillServing()
    {
        using var response = await Client.PostAsync("/predict", Form(("good.png", TestImages.Png(1))));
        var json = await Json(response);
        Assert.That(json.GetProperty("predictions").GetArrayLength(), Is.EqualTo(1));
    }
}
