// 09 · WebApp: serve trained models over HTTP: a page to upload a clothing photo or draw a digit, and a JSON API.
//
// Run:   dotnet run -c Release --project samples/09-WebApp          then open http://127.0.0.1:5080
//
// With no model configured, the first start trains two small models (fast-cnn, 10,000 images, 1 epoch: one on
// Fashion-MNIST for photos, one on MNIST for drawn digits; seconds on an idle machine, minutes on a busy one), logs that
// it does so, and keeps them in ~/.cache/fashionvision/webapp for later starts. To serve your own models, train and
// export them with the CLI and point the configuration at them (appsettings.json, environment variables or the command
// line):
//
//   fashionvision train --dataset fashion-mnist --model small-cnn --epochs 5 --output runs/fashion
//   fashionvision export runs/fashion/best.ckpt --int8                 # runs/fashion/model.onnx and model.int8.onnx
//   dotnet run -c Release --project samples/09-WebApp -- \
//     --FashionVision:Models:fashion:OnnxPath=runs/fashion/model.int8.onnx \
//     --FashionVision:Models:fashion:CheckpointPath=runs/fashion/best.ckpt      # the checkpoint only for Grad-CAM
//
// The API: POST /predict (multipart image files, or one image as the raw body; ?model=NAME&top=K), POST /gradcam (one
// image → PNG overlay), GET /model, GET /models, GET /health. Every refusal is a 4xx with a one-line JSON problem.
// Under load, concurrent requests are gathered into one ONNX Runtime run (FashionVision:Batching). The load test:
//   dotnet run -c Release --project benchmarks/FashionVision.LoadTest -- --url http://127.0.0.1:5080 --clients 8 --duration 30s
// Container, Triton and Kubernetes: docs/scale-out.md.
using FashionVision.AspNetCore;
using FashionVision.WebApp;

// A connection Kestrel gives up on (a client that half-closes mid-body; a body that never finishes arriving, after its 408)
// ends with a FIN, a clean close, rather than a reset (Kestrel's switch; set before Kestrel starts).
AppContext.SetSwitch("Microsoft.AspNetCore.Server.Kestrel.FinOnError", true);
var builder = WebApplication.CreateBuilder(args);

// ## 1. Models: the configured ones, or on a first start with none, two small ones trained here once.
var section = builder.Configuration.GetSection(FashionVisionServerOptions.SectionName);
if (!section.GetSection("Models").GetChildren().Any())
{
    using var startupLoggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
    var firstRun = section.GetSection("FirstRun");
    var folder = firstRun["Folder"] is { Length: > 0 } configured ? Path.GetFullPath(configured) : FirstRunModels.DefaultFolder;
    builder.Configuration.AddInMemoryCollection(FirstRunModels.Ensure(folder, firstRun["Model"] is { Length: > 0 } model ? model : "fast-cnn",
        firstRun.GetValue("TrainImages", 10_000), firstRun.GetValue("Epochs", 1), startupLoggers.CreateLogger("FirstRun")));
}

// ## 2. Services: the models behind their micro-batchers, options bound from the "FashionVision" section.
builder.Services.AddFashionVision(section);

// ## 3. The app: JSON problems for every error, the page from wwwroot, the endpoints.
var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseDefaultFiles();
app.UseStaticFiles();
app.MapFashionVision();
app.Run();

/// <summary>The web app (public so that tests can host it with WebApplicationFactory).</summary>
public partial class Program;
