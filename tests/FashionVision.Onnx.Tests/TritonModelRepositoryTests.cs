using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FashionVision.Onnx.Tests;

/// <summary>The Triton model repository: the layout Triton expects, and a config.pbtxt that parses and matches the ONNX graph.</summary>
public sealed class TritonModelRepositoryTests
{
    [Test]
    public void WritesTheLayoutAndAConfigThatMatchesTheGraph()
    {
        using var temp = new TempDirectory();
        using var model = TestModels.SmallCnn(seed: 3);
        var onnx = temp.File("small.onnx");
        OnnxExporter.Export(model, onnx, new OnnxExportOptions { ClassNames = FashionMnistSamples.ClassNames, Mean = [0.286f], Std = [0.353f], GraphName = "small-cnn" });

        var repository = Path.Combine(temp.Path, "models");
        var layout = TritonModelRepository.Write(onnx, repository, new TritonModelOptions { MaxBatchSize = 16, PreferredBatchSizes = [4, 16], InstanceCount = 2 });

        Assert.Multiple(() =>
        {
            Assert.That(layout.Name, Is.EqualTo("small-cnn"), "the graph's name by default");
            Assert.That(layout.ModelPath, Is.EqualTo(Path.Combine(repository, "small-cnn", "1", "model.onnx")));
            Assert.That(layout.ConfigPath, Is.EqualTo(Path.Combine(repository, "small-cnn", "config.pbtxt")));
            Assert.That(File.ReadAllBytes(layout.ModelPath), Is.EqualTo(File.ReadAllBytes(onnx)), "the model is copied unchanged");
            Assert.That(File.ReadAllLines(layout.LabelsPath), Is.EqualTo(FashionMnistSamples.ClassNames));
        });

        var config = PbtxtParser.Parse(File.ReadAllText(layout.ConfigPath));
        var input = config.Message("input");
        var output = config.Message("output");
        Assert.Multiple(() =>
        {
            Assert.That(config.Scalar("name"), Is.EqualTo("small-cnn"));
            Assert.That(config.Scalar("backend"), Is.EqualTo("onnxruntime"));
            Assert.That(config.Scalar("max_batch_size"), Is.EqualTo("16"));
            Assert.That(input.Scalar("name"), Is.EqualTo("input"), "the exporter's input name");
            Assert.That(input.Scalar("data_type"), Is.EqualTo("TYPE_FP32"));
            Assert.That(input.List("dims"), Is.EqualTo(new[] { "1", "28", "28" }), "C, H, W without the batch dimension");
            Assert.That(output.Scalar("name"), Is.EqualTo("logits"));
            Assert.That(output.List("dims"), Is.EqualTo(new[] { "10" }));
            Assert.That(output.Scalar("label_filename"), Is.EqualTo("labels.txt"));
            Assert.That(config.Message("dynamic_batching").List("preferred_batch_size"), Is.EqualTo(new[] { "4", "16" }));
            Assert.That(config.Message("dynamic_batching").Scalar("max_queue_delay_microseconds"), Is.EqualTo("100"));
            Assert.That(config.Message("instance_group").Scalar("count"), Is.EqualTo("2"));
            Assert.That(config.Message("instance_group").Scalar("kind"), Is.EqualTo("KIND_CPU"));
        });

        // FashionVision's metadata travels as parameters: clients read mean and std there to normalise.
        var parameters = config.Messages("parameters").ToDictionary(p => p.Scalar("key"), p => p.Message("value").Scalar("string_value"));
        Assert.That(JsonSerializer.Deserialize<float[]>(parameters[OnnxMetadataKeys.Mean]), Is.EqualTo(new[] { 0.286f }));
        Assert.That(JsonSerializer.Deserialize<float[]>(parameters[OnnxMetadataKeys.Std]), Is.EqualTo(new[] { 0.353f }));
        Assert.That(JsonSerializer.Deserialize<string[]>(parameters[OnnxMetadataKeys.ClassNames]), Is.EqualTo(FashionMnistSamples.ClassNames));

        // The copied model still runs.
        using var predictor = OnnxPredictor.Load(layout.ModelPath);
        Assert.That(predictor.PredictLogits(new float[2 * 28 * 28], 2), Has.Length.EqualTo(20));
    }

    [Test]
    public void AnotherModelAndVersionGoBesideTheFirst()
    {
        using var temp = new TempDirectory();
        using var model = TestModels.SmallCnn(seed: 4);
        var onnx = temp.File("m.onnx");
        OnnxExporter.Export(model, onnx);
        var first = TritonModelRepository.Write(onnx, temp.Path, new TritonModelOptions { Name = "a" });
        var second = TritonModelRepository.Write(onnx, temp.Path, new TritonModelOptions { Name = "b", Version = 3, InstanceKind = TritonInstanceKind.Gpu });
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(first.ModelPath), Is.True);
            Assert.That(second.ModelPath, Is.EqualTo(Path.Combine(temp.Path, "b", "3", "model.onnx")));
            Assert.That(PbtxtParser.Parse(File.ReadAllText(second.ConfigPath)).Message("instance_group").Scalar("kind"), Is.EqualTo("KIND_GPU"));
            Assert.That(File.ReadAllLines(second.LabelsPath), Is.EqualTo(Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture))),
                "class indices where the model names no classes");
        });
    }

    [Test]
    public void BadNamesAndFilesAreRefused()
    {
        using var temp = new TempDirectory();
        Assert.That(() => TritonModelRepository.Write(temp.File("missing.onnx"), temp.Path), Throws.TypeOf<FileNotFoundException>());
        File.WriteAllText(temp.File("text.onnx"), "not a model");
        Assert.That(() => TritonModelRepository.Write(temp.File("text.onnx"), temp.Path), Throws.TypeOf<OnnxFormatException>());
        Assert.That(() => new TritonModelOptions { Name = "../escape" }.Validate(), Throws.ArgumentException.With.Message.Contains("folder name"));
        Assert.That(() => new TritonModelOptions { MaxBatchSize = 8, PreferredBatchSizes = [16] }.Validate(), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    /// <summary>
    /// A reader for the protobuf text format Triton's config.pbtxt uses: <c>key: value</c>, <c>key: [a, b]</c>,
    /// <c>key { ... }</c>, <c>key [ { ... }, ... ]</c>, comments after <c>#</c>. Repeated keys accumulate.
    /// </summary>
    private sealed class PbtxtParser
    {
        private readonly List<string> _tokens;
        private int _next;

        private PbtxtParser(string text) => _tokens = Tokenize(text);

        public static PbtxtMessage Parse(string text)
        {
            var parser = new PbtxtParser(text);
            var message = parser.ParseFields(endToken: null);
            Assert.That(parser._next, Is.EqualTo(parser._tokens.Count), "the whole file parses");
            return message;
        }

        private PbtxtMessage ParseFields(string? endToken)
        {
            var message = new PbtxtMessage();
            while (_next < _tokens.Count && _tokens[_next] != endToken)
            {
                var key = _tokens[_next++];
                Assert.That(key, Does.Match("^[A-Za-z_][A-Za-z0-9_]*$"), "a field name");
                if (Peek() == ":")
                    _next++;
                foreach (var value in ParseValue())
                    message.Add(key, value);
            }
            if (endToken is not null)
                Expect(endToken);
            return message;
        }

        private IEnumerable<object> ParseValue()
        {
            var token = _tokens[_next++];
            if (token == "{")
                return [ParseFields("}")];
            if (token != "[")
                return [Unquote(token)];
            var values = new List<object>();
            while (Peek() != "]")
            {
                values.AddRange(ParseValue());
                if (Peek() == ",")
                    _next++;
            }
            Expect("]");
            return values;
        }

        private string? Peek() => _next < _tokens.Count ? _tokens[_next] : null;

        private void Expect(string token) => Assert.That(_tokens[_next++], Is.EqualTo(token));

        private static string Unquote(string token)
        {
            if (!token.StartsWith('"'))
                return token;
            var text = new StringBuilder();
            for (var i = 1; i < token.Length - 1; i++)
                text.Append(token[i] == '\\' ? token[++i] switch { 'n' => '\n', var c => c } : token[i]);
            return text.ToString();
        }

        private static List<string> Tokenize(string text)
        {
            var tokens = new List<string>();
            for (var i = 0; i < text.Length;)
            {
                var c = text[i];
                if (char.IsWhiteSpace(c)) { i++; continue; }
                if (c == '#') { while (i < text.Length && text[i] != '\n') i++; continue; }
                if ("{}[]:,".Contains(c)) { tokens.Add(c.ToString()); i++; continue; }
                var start = i;
                if (c == '"')
                {
                    for (i++; text[i] != '"'; i++)
                        if (text[i] == '\\') i++;
                    i++;
                }
                else
                    while (i < text.Length && !char.IsWhiteSpace(text[i]) && !"{}[]:,#".Contains(text[i])) i++;
                tokens.Add(text[start..i]);
            }
            return tokens;
        }
    }

    private sealed class PbtxtMessage
    {
        private readonly Dictionary<string, List<object>> _fields = [];

        public void Add(string key, object value)
        {
            if (!_fields.TryGetValue(key, out var values))
                _fields[key] = values = [];
            values.Add(value);
        }

        public string Scalar(string key) => (string)_fields[key].Single();

        public IReadOnlyList<string> List(string key) => _fields[key].Cast<string>().ToArray();

        public PbtxtMessage Message(string key) => (PbtxtMessage)_fields[key].Single();

        public IEnumerable<PbtxtMessage> Messages(string key) => _fields[key].Cast<PbtxtMessage>();
    }
}
