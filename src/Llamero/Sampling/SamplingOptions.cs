using Llamero.Sampling.Grammars;

namespace Llamero.Sampling;

/// <summary>
/// How the next token is chosen, with llama.cpp's defaults and meanings. <see cref="Validate"/> rejects values
/// llama.cpp would misbehave on, naming the option.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>Temperature; 0 picks the most likely token (greedy). Default 0.8.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the k most likely tokens; 0 disables. Default 40.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus sampling threshold in (0, 1]; 1 disables. Default 0.95.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Min-p threshold in [0, 1]; 0 disables. Default 0.05.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Locally typical sampling threshold in (0, 1]; 1 disables. Default 1.</summary>
    public float TypicalP { get; init; } = 1f;

    /// <summary>Repetition penalty over the last <see cref="RepeatLastN"/> tokens; 1 disables. Default 1.</summary>
    public float RepeatPenalty { get; init; } = 1f;

    /// <summary>How many recent tokens the penalties look at; 0 disables, -1 means the whole context. Default 64.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>Subtracted once per earlier occurrence in the window. Default 0.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted once if the token occurs in the window. Default 0.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Seed of the random draw; null picks a random seed (see <see cref="SamplerChain.Seed"/>).</summary>
    public uint? Seed { get; init; }

    /// <summary>0 for the normal chain, 2 for Mirostat 2.0 (1, the original Mirostat, is not supported).</summary>
    public int Mirostat { get; init; }

    /// <summary>Mirostat target surprise. Default 5.</summary>
    public float MirostatTau { get; init; } = 5f;

    /// <summary>Mirostat learning rate. Default 0.1.</summary>
    public float MirostatEta { get; init; } = 0.1f;

    /// <summary>Added to the logits of the given token ids before anything else (-infinity bans a token).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>
    /// Constrains every generated token to continue this grammar (llama.cpp's <c>--grammar</c>); end-of-generation
    /// is allowed only where the grammar can end. Null for free text. See <see cref="Grammars.Grammar.Parse"/>,
    /// <see cref="Grammars.Grammar.JsonObject"/> and <see cref="Grammars.Grammar.FromJsonSchema"/>.
    /// </summary>
    public Grammar? Grammar { get; init; }

    /// <summary>Greedy decoding: temperature 0, otherwise the defaults.</summary>
    public static SamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first option out of range. A negative temperature is an
    /// error here (llama.cpp silently treats it as greedy; use 0 for greedy).
    /// </summary>
    public void Validate()
    {
        Require(float.IsFinite(Temperature) && Temperature >= 0, $"temperature must be 0 (greedy) or positive, got {Temperature}");
        Require(TopK >= 0, $"top-k must be 0 (disabled) or positive, got {TopK}");
        Require(TopP > 0 && TopP <= 1, $"top-p must be in (0, 1], got {TopP}");
        Require(MinP >= 0 && MinP <= 1, $"min-p must be in [0, 1], got {MinP}");
        Require(TypicalP > 0 && TypicalP <= 1, $"typical-p must be in (0, 1], got {TypicalP}");
        Require(float.IsFinite(RepeatPenalty) && RepeatPenalty > 0, $"repeat penalty must be positive, got {RepeatPenalty}");
        Require(RepeatLastN >= -1, $"repeat-last-n must be -1 (whole context), 0 (disabled) or positive, got {RepeatLastN}");
        Require(float.IsFinite(FrequencyPenalty), $"frequency penalty must be a finite number, got {FrequencyPenalty}");
        Require(float.IsFinite(PresencePenalty), $"presence penalty must be a finite number, got {PresencePenalty}");
        Require(Mirostat is 0 or 2, $"mirostat must be 0 (off) or 2 (Mirostat 2.0), got {Mirostat}");
        Require(float.IsFinite(MirostatTau) && MirostatTau > 0, $"mirostat tau must be positive, got {MirostatTau}");
        Require(float.IsFinite(MirostatEta) && MirostatEta > 0, $"mirostat eta must be positive, got {MirostatEta}");
        if (LogitBias is not null)
        {
            foreach (var (token, bias) in LogitBias)
                Require(!float.IsNaN(bias) && !float.IsPositiveInfinity(bias), $"logit bias of token {token} must be a number or -infinity, got {bias}");
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
            throw new ArgumentException(message);
    }
}
