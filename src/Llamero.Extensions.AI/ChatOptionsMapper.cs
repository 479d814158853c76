using Llamero.Generation;
using Llamero.Sampling;
using Llamero.Sampling.Grammars;
using Microsoft.Extensions.AI;

namespace Llamero.Extensions.AI;

/// <summary>Maps <see cref="ChatOptions"/> onto the generator's options; unset values keep llama.cpp's defaults.</summary>
internal static class ChatOptionsMapper
{
    public static GenerationOptions ToGenerationOptions(ChatOptions? options, IReadOnlyList<string> templateStops)
    {
        var sampling = new SamplingOptions();
        if (options is not null)
        {
            sampling = sampling with
            {
                Temperature = options.Temperature ?? sampling.Temperature,
                TopP = options.TopP ?? sampling.TopP,
                TopK = options.TopK ?? sampling.TopK,
                FrequencyPenalty = options.FrequencyPenalty ?? sampling.FrequencyPenalty,
                PresencePenalty = options.PresencePenalty ?? sampling.PresencePenalty,
                // 64-bit seeds fold into the 32-bit generator seed.
                Seed = options.Seed is { } seed ? unchecked((uint)(seed ^ (seed >> 32))) : null,
                Grammar = ToGrammar(options),
            };
        }
        var stops = (options?.StopSequences ?? []).Where(s => s.Length > 0).Concat(templateStops).ToArray();
        var result = new GenerationOptions
        {
            Sampling = sampling,
            MaxTokens = options?.MaxOutputTokens ?? -1,
            StopStrings = stops,
            ContextShift = false,
        };
        try
        {
            result.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Invalid ChatOptions: {e.Message}", nameof(options), e);
        }
        return result;
    }

    /// <summary>
    /// <see cref="ChatResponseFormat.Json"/> holds the answer to any JSON object; a format with a schema
    /// (<see cref="ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonElement, string?, string?)"/>) to that schema;
    /// a GBNF text in <c>AdditionalProperties["grammar"]</c> (llama.cpp's name) to that grammar; otherwise the text is free.
    /// </summary>
    private static Grammar? ToGrammar(ChatOptions options)
    {
        string? gbnf = null;
        if (options.AdditionalProperties?.TryGetValue("grammar", out gbnf) == true && gbnf is not null)
        {
            if (options.ResponseFormat is ChatResponseFormatJson)
                throw new ArgumentException("Invalid ChatOptions: give either a JSON response format or a grammar, not both.", nameof(options));
            return Compile(() => Grammar.Parse(gbnf), "grammar");
        }
        if (options.ResponseFormat is not ChatResponseFormatJson json)
            return null;
        if (json.Schema is not { } schema)
            return Grammar.JsonObject;
        return Compile(() => Grammar.Parse(JsonSchemaGrammar.ToGbnf(schema)), json.SchemaName is { } n ? $"response format schema '{n}'" : "response format schema");
    }

    private static Grammar Compile(Func<Grammar> compile, string what)
    {
        try
        {
            return compile();
        }
        catch (FormatException e) when (e is JsonSchemaException or GrammarSyntaxException)
        {
            throw new ArgumentException($"Invalid ChatOptions: {what}: {e.Message}", "options", e);
        }
    }

    public static ChatFinishReason ToFinishReason(FinishReason reason) => reason switch
    {
        FinishReason.MaxTokens or FinishReason.ContextFull => ChatFinishReason.Length,
        _ => ChatFinishReason.Stop,
    };
}
