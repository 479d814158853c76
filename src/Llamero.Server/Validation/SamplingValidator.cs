using System.Globalization;
using Llamero.Server.Dtos;
using Llamero.Sampling;
using Llamero.Server.Errors;

namespace Llamero.Server.Validation;

/// <summary>
/// Range checks shared by chat completions and completions, turning request fields into
/// <see cref="SamplingOptions"/>. Unset fields take llama.cpp server's defaults. Every refusal is a 400 naming
/// the field, its allowed range and the value received.
/// </summary>
internal static class SamplingValidator
{
    /// <summary>Most stop strings, as OpenAI allows.</summary>
    public const int MaxStopStrings = 4;

    /// <summary>Validates the sampling fields of <paramref name="r"/> for a model with <paramref name="vocabSize"/> tokens.</summary>
    public static SamplingOptions ToOptions(SamplingRequestFields r, int vocabSize)
    {
        var defaults = new SamplingOptions();
        return new SamplingOptions
        {
            Temperature = (float)Range(r.Temperature, "temperature", 0, 2, defaults.Temperature),
            TopP = r.TopP is <= 0 ? throw OutOfRange("top_p", "greater than 0 and at most 1", r.TopP.Value)
                : (float)Range(r.TopP, "top_p", 0, 1, defaults.TopP),
            TopK = (int)Range(r.TopK, "top_k", 0, vocabSize, defaults.TopK),
            MinP = (float)Range(r.MinP, "min_p", 0, 1, defaults.MinP),
            FrequencyPenalty = (float)Range(r.FrequencyPenalty, "frequency_penalty", -2, 2, defaults.FrequencyPenalty),
            PresencePenalty = (float)Range(r.PresencePenalty, "presence_penalty", -2, 2, defaults.PresencePenalty),
            RepeatPenalty = r.RepeatPenalty is <= 0 ? throw OutOfRange("repeat_penalty", "greater than 0 and at most 10", r.RepeatPenalty.Value)
                : (float)Range(r.RepeatPenalty, "repeat_penalty", 0, 10, defaults.RepeatPenalty),
            // OpenAI seeds are 64-bit; the sampler's generator takes 32 bits: fold the halves together.
            Seed = r.Seed is null or -1 ? null : unchecked((uint)(r.Seed.Value ^ (r.Seed.Value >> 32))),
            LogitBias = LogitBias(r.LogitBias, vocabSize),
            Grammar = GrammarValidator.FromRequest(r),
        };
    }

    /// <summary>Checks the common non-sampling fields: n, stop, model-independent limits.</summary>
    public static IReadOnlyList<string> Stop(SamplingRequestFields r)
    {
        if (r.N is { } n && n != 1)
            throw ApiException.BadRequest($"n must be 1 (only one choice per request is supported); got {n}.", "n");
        var stop = r.Stop ?? [];
        if (stop.Count > MaxStopStrings)
            throw ApiException.BadRequest($"stop takes at most {MaxStopStrings} strings; got {stop.Count}.", "stop");
        if (stop.Any(s => s.Length == 0))
            throw ApiException.BadRequest("stop strings must not be empty.", "stop");
        return stop;
    }

    /// <summary>max_tokens: at least 1 and no more than the context; null = until the context is full.</summary>
    public static int MaxTokens(int? requested, string param, int contextSize, int fallback)
    {
        if (requested is null)
            return fallback;
        if (requested < 1 || requested > contextSize)
            throw OutOfRange(param, $"between 1 and the context size {contextSize}", requested.Value);
        return requested.Value;
    }

    /// <summary>400 context_length_exceeded when the prompt leaves no room for one generated token.</summary>
    public static void PromptFits(int promptTokens, int contextSize, string param)
    {
        if (promptTokens >= contextSize)
        {
            throw ApiException.BadRequest(
                $"This model's maximum context length is {contextSize} tokens. However, your prompt is {promptTokens} tokens, " +
                "which leaves no room for the answer. Shorten the prompt or start the server with a larger -c.",
                param, "context_length_exceeded");
        }
        if (promptTokens == 0)
            throw ApiException.BadRequest("The prompt is empty (0 tokens).", param);
    }

    private static double Range(double? value, string name, double min, double max, double fallback)
    {
        if (value is null)
            return fallback;
        if (double.IsNaN(value.Value) || value < min || value > max)
            throw OutOfRange(name, $"between {Num(min)} and {Num(max)}", value.Value);
        return value.Value;
    }

    private static IReadOnlyDictionary<int, float>? LogitBias(Dictionary<string, double>? bias, int vocabSize)
    {
        if (bias is null || bias.Count == 0)
            return null;
        var result = new Dictionary<int, float>(bias.Count);
        foreach (var (key, value) in bias)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id >= vocabSize)
                throw ApiException.BadRequest($"logit_bias key '{key}' is not a token id: ids run from 0 to {vocabSize - 1}.", "logit_bias");
            if (double.IsNaN(value) || value is < -100 or > 100)
                throw OutOfRange($"logit_bias[{key}]", "between -100 and 100", value);
            result[id] = (float)value;
        }
        return result;
    }

    /// <summary>400 "NAME must be RANGE; got VALUE".</summary>
    public static ApiException OutOfRange(string name, string range, double value) =>
        ApiException.BadRequest($"{name} must be {range}; got {Num(value)}.", name, "invalid_value");

    private static string Num(double v) => v.ToString(CultureInfo.InvariantCulture);
}
