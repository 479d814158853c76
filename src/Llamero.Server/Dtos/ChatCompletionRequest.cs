using System.Text.Json;
using System.Text.Json.Serialization;
using Llamero.Server.Json;

namespace Llamero.Server.Dtos;

/// <summary>
/// Body of <c>POST /v1/chat/completions</c>: OpenAI's fields plus llama.cpp's sampling extras (top_k, min_p,
/// repeat_penalty). Any other field is refused with 400, so a typo never silently changes nothing.
/// </summary>
public sealed class ChatCompletionRequest : SamplingRequestFields
{
    /// <summary>The conversation, oldest first.</summary>
    public List<ChatMessageDto>? Messages { get; set; }

    /// <summary>Newer name of <see cref="SamplingRequestFields.MaxTokens"/>; either may be given.</summary>
    public int? MaxCompletionTokens { get; set; }

    /// <summary>Return log probabilities of the chosen tokens.</summary>
    public bool? Logprobs { get; set; }

    /// <summary>How many alternatives per position to return (0..20); needs <see cref="Logprobs"/>.</summary>
    public int? TopLogprobs { get; set; }

    /// <summary>Tool definitions: accepted only when empty (no tool calling yet).</summary>
    public JsonElement? Tools { get; set; }

    /// <summary>Accepted only as <c>"none"</c> or <c>"auto"</c> without tools.</summary>
    public JsonElement? ToolChoice { get; set; }

    /// <summary>Ignored (tools are not supported).</summary>
    public bool? ParallelToolCalls { get; set; }
}

/// <summary>One message of a chat request.</summary>
public sealed class ChatMessageDto
{
    /// <summary>system, developer, user, assistant or tool.</summary>
    public string? Role { get; set; }

    /// <summary>Text, as a string or as an array of <c>{"type":"text","text":...}</c> parts.</summary>
    [JsonConverter(typeof(MessageContentConverter))]
    public MessageContent? Content { get; set; }

    /// <summary>Optional author name (ignored by the template).</summary>
    public string? Name { get; set; }

    /// <summary>Assistant refusal text (accepted, ignored).</summary>
    public string? Refusal { get; set; }

    /// <summary>Earlier tool calls of an assistant message (accepted, ignored).</summary>
    public JsonElement? ToolCalls { get; set; }

    /// <summary>Tool message link (accepted, ignored).</summary>
    public string? ToolCallId { get; set; }
}

/// <summary>The text of a message after joining its text parts.</summary>
public sealed record MessageContent(string Text);

/// <summary><c>response_format</c>.</summary>
public sealed class ResponseFormatDto
{
    /// <summary><c>text</c>, <c>json_object</c> or <c>json_schema</c>.</summary>
    public string? Type { get; set; }

    /// <summary>With <c>json_schema</c>: the schema and its name (OpenAI's shape).</summary>
    public JsonSchemaFormatDto? JsonSchema { get; set; }

    /// <summary>With <c>json_object</c>: an optional schema (llama.cpp server's shape).</summary>
    public JsonElement? Schema { get; set; }
}

/// <summary><c>response_format.json_schema</c>.</summary>
public sealed class JsonSchemaFormatDto
{
    /// <summary>Name of the schema (OpenAI requires one; used only in error messages here).</summary>
    public string? Name { get; set; }

    /// <summary>What the answer is for (accepted, ignored).</summary>
    public string? Description { get; set; }

    /// <summary>The JSON Schema the answer must follow.</summary>
    public JsonElement? Schema { get; set; }

    /// <summary>OpenAI's strict mode. The answer always follows the schema here, strict or not.</summary>
    public bool? Strict { get; set; }
}

/// <summary><c>stream_options</c>.</summary>
public sealed class StreamOptionsDto
{
    /// <summary>Send a last chunk carrying usage and no choices.</summary>
    public bool? IncludeUsage { get; set; }

    /// <summary>Accepted and ignored.</summary>
    public bool? IncludeObfuscation { get; set; }
}
