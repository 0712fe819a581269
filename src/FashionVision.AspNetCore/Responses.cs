namespace FashionVision.AspNetCore;

/// <summary>The answer of <c>POST /predict</c>.</summary>
/// <param name="Model">The model that answered.</param>
/// <param name="Version">Its version (see <see cref="ServedModel.Version"/>).</param>
/// <param name="Predictions">One prediction per image, in the order the images were sent.</param>
public sealed record PredictResponse(string Model, string Version, IReadOnlyList<ImagePrediction> Predictions);

/// <summary>The prediction for one uploaded image.</summary>
/// <param name="Image">The upload's file name, or its position.</param>
/// <param name="ClassIndex">The most probable class.</param>
/// <param name="ClassName">Its name.</param>
/// <param name="Confidence">Its probability.</param>
/// <param name="Top">The most probable classes, best first.</param>
public sealed record ImagePrediction(string Image, int ClassIndex, string ClassName, float Confidence, IReadOnlyList<ClassScore> Top);

/// <summary>A class and its probability.</summary>
/// <param name="ClassIndex">The class index.</param>
/// <param name="ClassName">The class name.</param>
/// <param name="Probability">The softmax probability.</param>
public sealed record ClassScore(int ClassIndex, string ClassName, float Probability);

/// <summary>The answer of <c>GET /model</c>: what a served model is.</summary>
/// <param name="Name">Its name (what <c>?model=</c> selects).</param>
/// <param name="Version">The first 12 hex digits of the ONNX file's SHA-256.</param>
/// <param name="Classes">The class names, in class-index order.</param>
/// <param name="InputShape">Channels, height, width.</param>
/// <param name="Style">How uploads are fitted into the input.</param>
/// <param name="GradCam">Whether <c>/gradcam</c> works for it.</param>
/// <param name="IsDefault">Whether requests that name no model get it.</param>
public sealed record ModelDescription(string Name, string Version, IReadOnlyList<string> Classes, int[] InputShape, string Style, bool GradCam, bool IsDefault);

/// <summary>The answer of <c>GET /health</c>.</summary>
/// <param name="Status">"ok" while the server answers.</param>
/// <param name="Models">How many models are served.</param>
/// <param name="UptimeSeconds">Seconds since the process started.</param>
/// <param name="WorkingSetBytes">The process's resident memory (RSS on Linux), native memory included.</param>
/// <param name="ManagedHeapBytes">Bytes on the .NET heap.</param>
/// <param name="ModelRuns">Model runs so far, over all models (fewer than <paramref name="Images"/> when requests were batched).</param>
/// <param name="Images">Images classified so far.</param>
public sealed record HealthResponse(string Status, int Models, double UptimeSeconds, long WorkingSetBytes, long ManagedHeapBytes, long ModelRuns, long Images);
