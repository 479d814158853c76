using Llamero.Generation;
using Llamero.Server.Dtos;
using Llamero.Server.Engine;
using Llamero.Server.Errors;
using Llamero.Server.Hosting;
using Llamero.Server.Json;
using Llamero.Server.Scheduling;
using Llamero.Server.Streaming;
using Llamero.Server.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Llamero.Server.Routes;

/// <summary><c>POST /v1/completions</c>: raw text (or token) prompt continued, plain or streamed.</summary>
internal static class CompletionsRoute
{
    /// <summary>OpenAI's default when max_tokens is absent.</summary>
    private const int DefaultMaxTokens = 16;

    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapPost("/v1/completions", context => HandleAsync(context, state));

    private static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var request = await HttpJson.ReadAsync(context, ServerJsonContext.Default.CompletionRequest, state.Options.MaxBodyBytes);
        var host = state.Host;
        var engine = host.Engine;
        host.RequireModel(request.Model);
        var (prompt, promptText) = PromptTokens(request.Prompt, engine);
        var sampling = SamplingValidator.ToOptions(request, engine.Tokenizer.VocabSize);
        var stop = SamplingValidator.Stop(request);
        if (request.BestOf is { } bestOf && bestOf != 1)
            throw ApiException.BadRequest($"best_of must be 1; got {bestOf}.", "best_of");
        if (!string.IsNullOrEmpty(request.Suffix))
            throw ApiException.BadRequest("suffix (fill-in-the-middle) is not supported.", "suffix");
        if (request.Logprobs is { } lp && (lp < 0 || lp > 5))
            throw SamplingValidator.OutOfRange("logprobs", "between 0 and 5", lp);
        var contextSize = host.Scheduler.ContextSize;
        SamplingValidator.PromptFits(prompt.Length, contextSize, "prompt");
        var maxTokens = SamplingValidator.MaxTokens(request.MaxTokens, "max_tokens", contextSize, DefaultMaxTokens);

        var job = host.Scheduler.Submit(new GenerationRequest
        {
            PromptTokens = prompt,
            Options = new GenerationOptions
            {
                Sampling = sampling,
                MaxTokens = maxTokens,
                StopStrings = stop,
                ContextShift = false,
                LogProbs = request.Logprobs is not null,
                TopLogProbs = request.Logprobs ?? 0,
            },
        }, context.RequestAborted);

        var id = "cmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var echo = request.Echo == true ? promptText : "";
        if (request.Stream == true)
        {
            await StreamAsync(context, job, id, created, engine.ModelId, echo, request.StreamOptions?.IncludeUsage == true, request.Logprobs is not null);
            return;
        }
        var result = await GenerationCollector.CollectAsync(job, context.RequestAborted);
        await HttpJson.WriteAsync(context, new CompletionResponse
        {
            Id = id,
            Created = created,
            Model = engine.ModelId,
            Choices =
            [
                new CompletionChoice
                {
                    Index = 0,
                    Text = echo + result.Text,
                    Logprobs = request.Logprobs is null ? null : LogprobMapper.Completion(result.Logprobs, echo.Length),
                    FinishReason = result.Summary.FinishReason,
                },
            ],
            Usage = ChatCompletionsRoute.UsageOf(result.Summary),
        }, ServerJsonContext.Default.CompletionResponse);
    }

    private static async Task StreamAsync(HttpContext context, GenerationJob job, string id, long created, string model,
        string echo, bool includeUsage, bool withLogprobs)
    {
        var sse = new SseWriter(context);
        await sse.StartAsync();
        var type = ServerJsonContext.Default.CompletionResponse;
        CompletionResponse Chunk(string text, CompletionLogprobs? logprobs = null, string? finish = null) => new()
        {
            Id = id, Created = created, Model = model,
            Choices = [new CompletionChoice { Index = 0, Text = text, Logprobs = logprobs, FinishReason = finish }],
        };

        if (echo.Length > 0)
            await sse.WriteAsync(Chunk(echo), type);
        var offset = echo.Length;
        GenerationSummary summary;
        try
        {
            await foreach (var piece in job.Pieces.ReadAllAsync(context.RequestAborted))
            {
                var logprobs = withLogprobs && piece.Logprob is not null ? LogprobMapper.Completion([piece.Logprob], offset) : null;
                offset += piece.Text.Length;
                await sse.WriteAsync(Chunk(piece.Text, logprobs), type);
            }
            summary = await job.Completion;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await sse.WriteAsync(ErrorMiddleware.ToBody(ErrorMiddleware.GenerationFailure(e, "Generation failed")), ServerJsonContext.Default.ErrorResponse);
            return;
        }
        await sse.WriteAsync(Chunk("", finish: summary.FinishReason), type);
        if (includeUsage)
            await sse.WriteAsync(new CompletionResponse { Id = id, Created = created, Model = model, Choices = [], Usage = ChatCompletionsRoute.UsageOf(summary) }, type);
        await sse.WriteDoneAsync();
    }

    /// <summary>The single prompt as tokens (BOS added to text prompts as the model asks) and as text for echo.</summary>
    internal static (int[] Tokens, string Text) PromptTokens(PromptInput? input, IInferenceEngine engine, string param = "prompt")
    {
        if (input is null)
            throw ApiException.BadRequest($"{param} is required.", param);
        if (input.Count != 1)
            throw ApiException.BadRequest($"{param} must hold exactly one prompt; got {input.Count}.", param);
        var tokenizer = engine.Tokenizer;
        if (input.Texts is { } texts)
            return (tokenizer.Encode(texts[0], addSpecial: true), texts[0]);
        var ids = input.TokenLists![0];
        TokenIds.Check(ids, tokenizer.VocabSize, param);
        return (ids, tokenizer.Decode(ids));
    }
}
