using System.Text.Json.Serialization;
using Llamero.Server.Json;

namespace Llamero.Server.Dtos;

/// <summary>Answer of <c>POST /v1/embeddings</c>.</summary>
public sealed class EmbeddingResponse
{
    /// <summary>Always <c>list</c>.</summary>
    public string Object => "list";

    /// <summary>One vector per input, in input order.</summary>
    public required List<EmbeddingItem> Data { get; init; }

    /// <summary>Model id.</summary>
    public required string Model { get; init; }

    /// <summary>Prompt tokens (total = prompt).</summary>
    public required EmbeddingUsage Usage { get; init; }
}

/// <summary>One embedding vector.</summary>
public sealed class EmbeddingItem
{
    /// <summary>Always <c>embedding</c>.</summary>
    public string Object => "embedding";

    /// <summary>Position of its input.</summary>
    public required int Index { get; init; }

    /// <summary>The unit-length vector, written as a float array or as base64 of little-endian float32.</summary>
    [JsonConverter(typeof(EmbeddingVectorConverter))]
    public required EmbeddingVector Embedding { get; init; }
}

/// <summary>A vector and how to write it.</summary>
public sealed record EmbeddingVector(float[] Values, bool AsBase64);

/// <summary>Token counts of an embeddings request.</summary>
public sealed class EmbeddingUsage
{
    /// <summary>Tokens embedded.</summary>
    public required int PromptTokens { get; init; }

    /// <summary>Same as prompt tokens.</summary>
    public int TotalTokens => PromptTokens;
}
