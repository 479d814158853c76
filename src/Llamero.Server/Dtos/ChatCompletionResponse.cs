using System.Text.Json.Serialization;

namespace Llamero.Server.Dtos;

/// <summary>Answer of a non-streaming chat completion (<c>object = "chat.completion"</c>).</summary>
public sealed class ChatCompletionResponse
{
    /// <summary>chatcmpl-... id.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>chat.completion</c>.</summary>
    public string Object => "chat.completion";

    /// <summary>Unix seconds.</summary>
    public required long Created { get; init; }

    /// <summary>Model id.</summary>
    public required string Model { get; init; }

    /// <summary>One choice (n = 1).</summary>
    public required List<ChatChoice> Choices { get; init; }

    /// <summary>Token counts.</summary>
    public required Usage Usage { get; init; }

    /// <summary>Build identity.</summary>
    public string SystemFingerprint => ServerInfo.Fingerprint;
}

/// <summary>One answer of a chat completion.</summary>
public sealed class ChatChoice
{
    /// <summary>0.</summary>
    public required int Index { get; init; }

    /// <summary>The assistant message.</summary>
    public required ChatResponseMessage Message { get; init; }

    /// <summary>Log probabilities when asked for, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ChatLogprobs? Logprobs { get; init; }

    /// <summary><c>stop</c> or <c>length</c>.</summary>
    public required string FinishReason { get; init; }
}

/// <summary>The assistant's message.</summary>
public sealed class ChatResponseMessage
{
    /// <summary>Always <c>assistant</c>.</summary>
    public string Role => "assistant";

    /// <summary>The generated text.</summary>
    public required string Content { get; init; }

    /// <summary>Always null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Refusal => null;
}

/// <summary><c>logprobs</c> of a chat choice or chunk.</summary>
public sealed class ChatLogprobs
{
    /// <summary>One entry per generated token.</summary>
    public required List<TokenLogprobDto> Content { get; init; }
}

/// <summary>A chosen token with its log probability and the most likely alternatives.</summary>
public sealed class TokenLogprobDto
{
    /// <summary>Token text.</summary>
    public required string Token { get; init; }

    /// <summary>Natural log of its probability under the model (before sampling filters).</summary>
    public required float Logprob { get; init; }

    /// <summary>UTF-8 bytes of the token text.</summary>
    public required int[] Bytes { get; init; }

    /// <summary>The most likely tokens at this position (may be empty).</summary>
    public List<TopLogprobDto>? TopLogprobs { get; init; }
}

/// <summary>An alternative token at one position.</summary>
public sealed class TopLogprobDto
{
    /// <summary>Token text.</summary>
    public required string Token { get; init; }

    /// <summary>Natural log of its probability.</summary>
    public required float Logprob { get; init; }

    /// <summary>UTF-8 bytes of the token text.</summary>
    public required int[] Bytes { get; init; }
}
