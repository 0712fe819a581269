using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FashionVision.Cli.Infrastructure;
using FashionVision.Native;
using FashionVision.Onnx;

namespace FashionVision.Cli.Commands;

/// <summary>
/// <c>fashionvision system [--json] [--no-probe]</c>: what this machine is, for a bug report or beside a measured figure
/// (<see cref="SystemReport"/> from the library and the ONNX Runtime INT8 probe from <see cref="OnnxSystemProbe"/>).
/// </summary>
internal static class SystemCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command Create(CliContext context)
    {
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (for tools and bug reports)" };
        var noProbe = new Option<bool>("--no-probe") { Description = "Skip the ~2-second float32/bfloat16 and INT8 probes" };
        var command = new Command("system",
            "Describe this machine: CPU and its instruction sets, the kernels libtorch will use, OS, .NET, TorchSharp and libtorch, " +
            "threads, CUDA, a short float32/bfloat16/INT8 probe, and the precision Auto chooses. Paste it into bug reports.")
        {
            json, noProbe,
        };
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            bool probe = !parse.GetValue(noProbe);
            var report = SystemReport.Collect(runProbe: probe);
            context.CancellationToken.ThrowIfCancellationRequested();
            var onnx = probe ? OnnxSystemProbe.Run() : null;
            if (parse.GetValue(json))
            {
                var node = JsonSerializer.SerializeToNode(report, Json)!.AsObject();
                node["onnxProbe"] = onnx is null ? null : JsonSerializer.SerializeToNode(onnx, Json);
                node["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
                context.Output.WriteLine(node.ToJsonString(Json));
                return CliApp.Success;
            }
            context.Output.Write(report.ToText());
            context.Output.WriteLine("ONNX Runtime (fast-cnn, batch 1, images/s; lower while other processes load the machine)");
            void Line(string name, string value) => context.Output.WriteLine($"  {(name + ":").PadRight(26)}{value}");
            if (onnx is null)
            {
                Line("Probe", "not run");
            }
            else
            {
                Line("float32", onnx.Float32ImagesPerSecond.ToString("F0"));
                Line($"INT8 ({onnx.Int8Target.Name})", $"{onnx.Int8ImagesPerSecond:F0} ({onnx.Int8Speedup:F2}× float32)");
                Line("INT8 target", onnx.Int8Target.Reason);
            }
            context.Output.WriteLine($"Collected in {clock.Elapsed.TotalSeconds:F1} s.");
            return CliApp.Success;
        });
        return command;
    }
}
