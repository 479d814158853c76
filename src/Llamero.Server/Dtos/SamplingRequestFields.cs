using System.Text.Json;
using System.Text.Json.Serialization;
using Llamero.Server.Json;

namespace Llamero.Server.Dtos;

/// <summary>Fields chat completions and completions share: the model, sampling, stop, streaming and bookkeeping.</summary>
public abstract class SamplingRequestFields
{
    /// <summary>Model id; when omitted, the loaded model.</summary>
    public string? Model { get; set; }

    /// <summary>0..2; 0 is greedy.</summary>
    public double? Temperature { get; set; }

    /// <summary>Nucleus sampling mass, 0..1.</summary>
    public double? TopP { get; set; }

    /// <summary>Keep the k most likely tokens (0 = off). llama.cpp extension.</summary>
    public int? TopK { get; set; }

    /// <summary>Drop tokens below min_p times the top probability, 0..1. llama.cpp extension.</summary>
    public double? MinP { get; set; }

    /// <summary>Most tokens to generate.</summary>
    public int? MaxTokens { get; set; }

    /// <summary>Up to 4 strings that end the answer (not included in it).</summary>
    [JsonConverter(typeof(StringOrArrayConverter))]
    public List<string>? Stop { get; set; }

    /// <summary>Seed of the sampler's random draw.</summary>
    public long? Seed { get; set; }

    /// <summary>-2..2, scaled by how often a token already appeared.</summary>
    public double? FrequencyPenalty { get; set; }

    /// <summary>-2..2, once per token that already appeared.</summary>
    public double? PresencePenalty { get; set; }

    /// <summary>llama.cpp's multiplicative repeat penalty, 0 &lt; r ≤ 10 (1 = off).</summary>
    public double? RepeatPenalty { get; set; }

    /// <summary>Token id (as a string) → bias -100..100 added to its logit.</summary>
    public Dictionary<string, double>? LogitBias { get; set; }

    /// <summary>
    /// <c>{"type":"text"}</c>, <c>{"type":"json_object"}</c> (any JSON object; llama.cpp also takes a <c>schema</c> here)
    /// or OpenAI's <c>{"type":"json_schema","json_schema":{"name":..,"schema":{..},"strict":..}}</c>.
    /// </summary>
    public ResponseFormatDto? ResponseFormat { get; set; }

    /// <summary>A GBNF grammar the answer must follow (llama.cpp server extension).</summary>
    public string? Grammar { get; set; }

    /// <summary>A JSON Schema the answer must follow (llama.cpp server extension).</summary>
    public JsonElement? JsonSchema { get; set; }

    /// <summary>Stream the answer as server-sent events.</summary>
    public bool? Stream { get; set; }

    /// <summary>Options of the stream.</summary>
    public StreamOptionsDto? StreamOptions { get; set; }

    /// <summary>Number of choices: only 1 is supported.</summary>
    public int? N { get; set; }

    /// <summary>End-user id (accepted, ignored).</summary>
    public string? User { get; set; }

    /// <summary>Accepted, ignored.</summary>
    public bool? Store { get; set; }

    /// <summary>Accepted, ignored.</summary>
    public Dictionary<string, string>? Metadata { get; set; }

    /// <summary>Accepted, ignored.</summary>
    public string? ServiceTier { get; set; }

    /// <summary>Accepted, ignored.</summary>
    public JsonElement? PromptCacheKey { get; set; }

    /// <summary>Accepted, ignored.</summary>
    public string? SafetyIdentifier { get; set; }
}
