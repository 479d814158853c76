using System.Text.Json.Serialization;

namespace Llamero.Server.Dtos;

/// <summary>One server-sent event of a streaming chat completion (<c>object = "chat.completion.chunk"</c>).</summary>
public sealed class ChatCompletionChunk
{
    /// <summary>Same id for every chunk of one answer.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>chat.completion.chunk</c>.</summary>
    public string Object => "chat.completion.chunk";

    /// <summary>Unix seconds.</summary>
    public required long Created { get; init; }

    /// <summary>Model id.</summary>
    public required string Model { get; init; }

    /// <summary>Build identity.</summary>
    public string SystemFingerprint => ServerInfo.Fingerprint;

    /// <summary>One delta; empty in the final usage chunk.</summary>
    public required List<ChatChunkChoice> Choices { get; init; }

    /// <summary>Only in the last chunk, when <c>stream_options.include_usage</c>.</summary>
    public Usage? Usage { get; init; }
}

/// <summary>A delta of the one choice.</summary>
public sealed class ChatChunkChoice
{
    /// <summary>0.</summary>
    public required int Index { get; init; }

    /// <summary>New text (and the role in the first chunk).</summary>
    public required ChatDelta Delta { get; init; }

    /// <summary>Log probabilities of the tokens in this delta, when asked for.</summary>
    public ChatLogprobs? Logprobs { get; init; }

    /// <summary>Null until the last content chunk.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}

/// <summary>What a chunk adds to the message.</summary>
public sealed class ChatDelta
{
    /// <summary><c>assistant</c> in the first chunk only.</summary>
    public string? Role { get; init; }

    /// <summary>New text.</summary>
    public string? Content { get; init; }
}
