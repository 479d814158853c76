using System.Text.Json.Serialization;
using Llamero.Server.Json;

namespace Llamero.Server.Dtos;

/// <summary>Body of <c>POST /v1/embeddings</c>.</summary>
public sealed class EmbeddingRequest
{
    /// <summary>Text(s) or token list(s) to embed.</summary>
    [JsonConverter(typeof(PromptInputConverter))]
    public PromptInput? Input { get; set; }

    /// <summary>Model id; when omitted, the loaded model.</summary>
    public string? Model { get; set; }

    /// <summary><c>float</c> (default) or <c>base64</c> (little-endian float32, what the OpenAI SDKs ask for).</summary>
    public string? EncodingFormat { get; set; }

    /// <summary>Truncate each vector to this many dimensions (then renormalise).</summary>
    public int? Dimensions { get; set; }

    /// <summary>Accepted, ignored.</summary>
    public string? User { get; set; }
}
