using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using Llamero.Server.Dtos;

namespace Llamero.Server.Json;

/// <summary>Writes an embedding as a float array, or as base64 of its little-endian float32 bytes.</summary>
internal sealed class EmbeddingVectorConverter : JsonConverter<EmbeddingVector>
{
    public override EmbeddingVector Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("embedding vectors are only written");

    public override void Write(Utf8JsonWriter writer, EmbeddingVector value, JsonSerializerOptions options)
    {
        if (value.AsBase64)
        {
            var bytes = new byte[value.Values.Length * sizeof(float)];
            for (var i = 0; i < value.Values.Length; i++)
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), value.Values[i]);
            writer.WriteBase64StringValue(bytes);
            return;
        }
        writer.WriteStartArray();
        foreach (var v in value.Values)
            writer.WriteNumberValue(v);
        writer.WriteEndArray();
    }
}
