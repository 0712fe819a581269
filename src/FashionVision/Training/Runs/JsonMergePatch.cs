using System.Text.Json.Nodes;

namespace FashionVision.Training;

/// <summary>JSON merge patches (RFC 7386) over the spec's JSON, and the differences between two JSON trees.</summary>
internal static class JsonMergePatch
{
    /// <summary>Applies <paramref name="patch"/> to <paramref name="target"/> in place: objects merge, other values replace, null removes. Property names match case-insensitively.</summary>
    public static void Apply(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            string name = target.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) ?? key;
            if (value is null)
                target.Remove(name);
            else if (value is JsonObject child && target[name] is JsonObject existing)
                Apply(existing, child);
            else
                target[name] = value.DeepClone();
        }
    }

    /// <summary>A patch as <c>path = value</c> pairs, e.g. <c>training.scheduler.kind = OneCycle</c>.</summary>
    public static string Describe(JsonObject patch, string prefix = "")
    {
        var parts = new List<string>();
        foreach (var (key, value) in patch)
        {
            string path = prefix + key;
            parts.Add(value is JsonObject child ? Describe(child, path + ".") : $"{path} = {(value is null ? "default" : value.ToJsonString().Trim('"'))}");
        }
        return string.Join(", ", parts);
    }

    /// <summary>Adds a difference for every leaf where <paramref name="current"/> and <paramref name="saved"/> differ.</summary>
    public static void Compare(JsonNode? current, JsonNode? saved, string path, List<RunSettingDifference> differences)
    {
        if (current is JsonObject objectA && saved is JsonObject objectB)
        {
            foreach (var key in objectA.Select(p => p.Key).Union(objectB.Select(p => p.Key)))
                Compare(objectA[key], objectB[key], path.Length == 0 ? key : $"{path}.{key}", differences);
            return;
        }
        string? now = current?.ToJsonString(), before = saved?.ToJsonString();
        if (now != before)
            differences.Add(new RunSettingDifference(path, before, now));
    }
}
