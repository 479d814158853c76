using Llamero.Server.Dtos;
using Llamero.Server.Errors;
using Llamero.Server.Hosting;
using Llamero.Server.Json;
using Llamero.Server.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>POST /v1/embeddings</c>: mean-pooled, L2-normalised final hidden states, one vector per input.</summary>
internal static class EmbeddingsRoute
{
    /// <summary>Most inputs in one request.</summary>
    private const int MaxInputs = 256;

    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapPost("/v1/embeddings", async context =>
        {
            var request = await HttpJson.ReadAsync(context, ServerJsonContext.Default.EmbeddingRequest, state.Options.MaxBodyBytes);
            var host = state.Host;
            var engine = host.Engine;
            host.RequireModel(request.Model);
            if (request.Input is not { Count: > 0 } input)
                throw ApiException.BadRequest("input is required and must not be empty.", "input");
            if (input.Count > MaxInputs)
                throw ApiException.BadRequest($"input holds {input.Count} items; at most {MaxInputs} are allowed.", "input");
            var base64 = request.EncodingFormat switch
            {
                null or "float" => false,
                "base64" => true,
                var other => throw ApiException.BadRequest($"encoding_format must be 'float' or 'base64'; got '{other}'.", "encoding_format"),
            };
            if (request.Dimensions is { } d && (d < 1 || d > engine.EmbeddingSize))
                throw SamplingValidator.OutOfRange("dimensions", $"between 1 and {engine.EmbeddingSize}", d);

            var contextSize = host.Scheduler.ContextSize;
            var items = new List<EmbeddingItem>(input.Count);
            var totalTokens = 0;
            for (var i = 0; i < input.Count; i++)
            {
                var tokens = input.Texts is { } texts ? engine.Tokenizer.Encode(texts[i], addSpecial: true) : input.TokenLists![i];
                TokenIds.Check(tokens, engine.Tokenizer.VocabSize, $"input[{i}]");
                if (tokens.Length == 0)
                    throw ApiException.BadRequest($"input[{i}] is empty.", "input");
                if (tokens.Length > contextSize)
                    throw ApiException.BadRequest($"input[{i}] is {tokens.Length} tokens; the context holds {contextSize}.", "input", "context_length_exceeded");
                totalTokens += tokens.Length;
                var vector = await host.EmbedAsync(tokens, context.RequestAborted);
                items.Add(new EmbeddingItem { Index = i, Embedding = new EmbeddingVector(Truncate(vector, request.Dimensions), base64) });
            }
            await HttpJson.WriteAsync(context, new EmbeddingResponse
            {
                Data = items, Model = engine.ModelId, Usage = new EmbeddingUsage { PromptTokens = totalTokens },
            }, ServerJsonContext.Default.EmbeddingResponse);
        });

    /// <summary>Keeps the first <paramref name="dimensions"/> values and renormalises to unit length.</summary>
    private static float[] Truncate(float[] vector, int? dimensions)
    {
        if (dimensions is not { } d || d >= vector.Length)
            return vector;
        var cut = vector[..d];
        var norm = MathF.Sqrt(cut.Sum(v => v * v));
        if (norm > 0)
        {
            for (var i = 0; i < cut.Length; i++)
                cut[i] /= norm;
        }
        return cut;
    }
}
