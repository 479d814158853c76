using System.Text.Json.Serialization;

namespace Llamero.Server.Dtos;

/// <summary>Answer (or, streaming, one chunk) of <c>POST /v1/completions</c> (<c>object = "text_completion"</c>).</summary>
public sealed class CompletionResponse
{
    /// <summary>cmpl-... id.</summary>
    public required string Id { get; init; }

    /// <summary>Always <c>text_completion</c>.</summary>
    public string Object => "text_completion";

    /// <summary>Unix seconds.</summary>
    public required long Created { get; init; }

    /// <summary>Model id.</summary>
    public required string Model { get; init; }

    /// <summary>Build identity.</summary>
    public string SystemFingerprint => ServerInfo.Fingerprint;

    /// <summary>One choice; empty in the final usage chunk of a stream.</summary>
    public required List<CompletionChoice> Choices { get; init; }

    /// <summary>Token counts (streaming: only in the last chunk, when asked for).</summary>
    public Usage? Usage { get; init; }
}

/// <summary>The generated text of a completion.</summary>
public sealed class CompletionChoice
{
    /// <summary>0.</summary>
    public required int Index { get; init; }

    /// <summary>Generated text (the whole answer, or a stream's new piece).</summary>
    public required string Text { get; init; }

    /// <summary>Legacy logprobs object when asked for, else null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public CompletionLogprobs? Logprobs { get; init; }

    /// <summary>Null until the end; then <c>stop</c> or <c>length</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}

/// <summary>The legacy completions logprobs layout: parallel arrays.</summary>
public sealed class CompletionLogprobs
{
    /// <summary>Token texts.</summary>
    public required List<string> Tokens { get; init; }

    /// <summary>Their log probabilities.</summary>
    public required List<float> TokenLogprobs { get; init; }

    /// <summary>Per position, the top alternatives (text → logprob).</summary>
    public required List<Dictionary<string, float>> TopLogprobs { get; init; }

    /// <summary>Character offset of each token in the returned text.</summary>
    public required List<int> TextOffset { get; init; }
}
