using System.Text.Json;
using System.Text.Json.Serialization;

namespace FashionVision.IO;

/// <summary>
/// Reads and writes enums by name (case-insensitive, kebab-case accepted: <c>one-cycle</c> for <c>OneCycle</c>); an
/// unknown name or a number is a <see cref="JsonException"/> whose message lists the valid names.
/// </summary>
public sealed class StrictEnumConverterFactory : JsonConverterFactory
{
    /// <inheritdoc />
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    /// <inheritdoc />
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(StrictEnumConverter<>).MakeGenericType(typeToConvert))!;

    private sealed class StrictEnumConverter<T> : JsonConverter<T> where T : struct, Enum
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            string names = string.Join(", ", Enum.GetNames<T>());
            if (reader.TokenType != JsonTokenType.String)
                throw new JsonException($"expected one of {names} as a string for {typeof(T).Name}.");
            string text = reader.GetString() ?? "";
            if (Enum.TryParse<T>(text.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var value) && Enum.IsDefined(value))
                return value;
            throw new JsonException($"unknown {typeof(T).Name} '{text}'. Valid names: {names}.");
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
