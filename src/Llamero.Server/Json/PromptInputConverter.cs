using System.Text.Json;
using System.Text.Json.Serialization;
using Llamero.Server.Dtos;

namespace Llamero.Server.Json;

/// <summary>
/// <c>prompt</c> / <c>input</c>: a string, an array of strings, an array of token ids, or an array of such
/// arrays. Mixed arrays are refused.
/// </summary>
internal sealed class PromptInputConverter : JsonConverter<PromptInput>
{
    public override PromptInput? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
            return new PromptInput([reader.GetString()!], null);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException("expected a string, an array of strings, or token ids");
        List<string>? texts = null;
        List<int[]>? tokenLists = null;
        List<int>? flat = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.String when tokenLists is null && flat is null:
                    (texts ??= []).Add(reader.GetString()!);
                    break;
                case JsonTokenType.Number when texts is null && tokenLists is null:
                    (flat ??= []).Add(ReadTokenId(ref reader));
                    break;
                case JsonTokenType.StartArray when texts is null && flat is null:
                    (tokenLists ??= []).Add(ReadTokenArray(ref reader));
                    break;
                default:
                    throw new JsonException("expected a string, an array of strings, or token ids (not a mix)");
            }
        }
        if (flat is not null)
            return new PromptInput(null, [flat.ToArray()]);
        if (tokenLists is not null)
            return new PromptInput(null, tokenLists);
        return new PromptInput(texts ?? [], null);
    }

    private static int[] ReadTokenArray(ref Utf8JsonReader reader)
    {
        var ids = new List<int>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number)
                throw new JsonException("expected token ids (integers)");
            ids.Add(ReadTokenId(ref reader));
        }
        return ids.ToArray();
    }

    private static int ReadTokenId(ref Utf8JsonReader reader) =>
        reader.TryGetInt32(out var id) ? id : throw new JsonException("token ids must be 32-bit integers");

    public override void Write(Utf8JsonWriter writer, PromptInput value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var s in value.Texts ?? [])
            writer.WriteStringValue(s);
        foreach (var ids in value.TokenLists ?? [])
        {
            writer.WriteStartArray();
            foreach (var id in ids)
                writer.WriteNumberValue(id);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
    }
}
