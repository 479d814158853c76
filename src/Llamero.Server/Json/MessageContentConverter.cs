using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Llamero.Server.Dtos;

namespace Llamero.Server.Json;

/// <summary>
/// A message's <c>content</c>: a string, or an array of parts of which only <c>{"type":"text","text":...}</c>
/// is understood (the text parts are joined). Images and audio are refused with a message saying so.
/// </summary>
internal sealed class MessageContentConverter : JsonConverter<MessageContent>
{
    public override MessageContent? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
            return new MessageContent(reader.GetString()!);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected a string or an array of content parts");
        var text = new StringBuilder();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            text.Append(ReadPart(ref reader));
        return new MessageContent(text.ToString());
    }

    private static string ReadPart(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonException("expected a content part object");
        string? type = null, text = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "type" when reader.TokenType == JsonTokenType.String:
                    type = reader.GetString();
                    break;
                case "text" when reader.TokenType == JsonTokenType.String:
                    text = reader.GetString();
                    break;
                case "type" or "text":
                    throw new JsonException($"content part field '{name}' must be a string");
                default:
                    // image_url, input_audio, file ...: skip the value, the type check below refuses the part.
                    reader.Skip();
                    break;
            }
        }
        if (type != "text" || text is null)
            throw new JsonException($"content part of type '{type}' is not supported: only text parts are");
        return text;
    }

    public override void Write(Utf8JsonWriter writer, MessageContent value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Text);
}
