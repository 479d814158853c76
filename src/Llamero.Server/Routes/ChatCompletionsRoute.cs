using Llamero.Chat;
using Llamero.Generation;
using Llamero.Server.Dtos;
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

/// <summary><c>POST /v1/chat/completions</c>: the conversation through the chat template, plain or streamed.</summary>
internal static class ChatCompletionsRoute
{
    private static readonly HashSet<string> Roles = ["system", "developer", "user", "assistant", "tool"];

    public static void Map(IEndpointRouteBuilder app, ServerState state) =>
        app.MapPost("/v1/chat/completions", context => HandleAsync(context, state));

    private static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var request = await HttpJson.ReadAsync(context, ServerJsonContext.Default.ChatCompletionRequest, state.Options.MaxBodyBytes);
        var host = state.Host;
        var engine = host.Engine;
        host.RequireModel(request.Model);
        var turns = Validate(request);
        var tokenizer = engine.Tokenizer;
        var sampling = SamplingValidator.ToOptions(request, tokenizer.VocabSize);
        var stop = SamplingValidator.Stop(request);
        var contextSize = host.Scheduler.ContextSize;
        var messages = turns.Select(t => new ChatMessage(t.Role, t.Content)).ToList();
        var prompt = tokenizer.Encode(engine.Template.Render(messages, addAssistantPrefix: true), addSpecial: true, parseSpecial: true);
        SamplingValidator.PromptFits(prompt.Length, contextSize, "messages");
        var maxTokens = SamplingValidator.MaxTokens(request.MaxCompletionTokens ?? request.MaxTokens,
            request.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens", contextSize, -1);
        var logprobs = request.Logprobs == true;

        var job = host.Scheduler.Submit(new GenerationRequest
        {
            PromptTokens = prompt,
            Options = new GenerationOptions
            {
                Sampling = sampling,
                MaxTokens = maxTokens,
                // The template's end-of-turn markers (e.g. "USER:") end the answer too.
                StopStrings = [.. stop, .. engine.Template.StopStrings],
                ContextShift = false,
                LogProbs = logprobs,
                TopLogProbs = logprobs ? request.TopLogprobs ?? 0 : 0,
            },
        }, context.RequestAborted);

        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (request.Stream == true)
        {
            await StreamAsync(context, job, id, created, engine.ModelId, request.StreamOptions?.IncludeUsage == true);
            return;
        }
        var result = await GenerationCollector.CollectAsync(job, context.RequestAborted);
        await HttpJson.WriteAsync(context, new ChatCompletionResponse
        {
            Id = id,
            Created = created,
            Model = engine.ModelId,
            Choices =
            [
                new ChatChoice
                {
                    Index = 0,
                    Message = new ChatResponseMessage { Content = result.Text },
                    Logprobs = logprobs ? LogprobMapper.Chat(result.Logprobs) : null,
                    FinishReason = result.Summary.FinishReason,
                },
            ],
            Usage = UsageOf(result.Summary),
        }, ServerJsonContext.Default.ChatCompletionResponse);
    }

    private static async Task StreamAsync(HttpContext context, GenerationJob job, string id, long created, string model, bool includeUsage)
    {
        var sse = new SseWriter(context);
        await sse.StartAsync();
        var type = ServerJsonContext.Default.ChatCompletionChunk;
        ChatCompletionChunk Chunk(ChatDelta delta, ChatLogprobs? logprobs = null, string? finish = null) => new()
        {
            Id = id, Created = created, Model = model,
            Choices = [new ChatChunkChoice { Index = 0, Delta = delta, Logprobs = logprobs, FinishReason = finish }],
        };

        await sse.WriteAsync(Chunk(new ChatDelta { Role = "assistant", Content = "" }), type);
        GenerationSummary summary;
        try
        {
            await foreach (var piece in job.Pieces.ReadAllAsync(context.RequestAborted))
            {
                var logprobs = piece.Logprob is null ? null : LogprobMapper.Chat([piece.Logprob]);
                await sse.WriteAsync(Chunk(new ChatDelta { Content = piece.Text }, logprobs), type);
            }
            summary = await job.Completion;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await sse.WriteAsync(ErrorMiddleware.ToBody(ErrorMiddleware.GenerationFailure(e, "Generation failed")), ServerJsonContext.Default.ErrorResponse);
            return;
        }
        await sse.WriteAsync(Chunk(new ChatDelta(), finish: summary.FinishReason), type);
        if (includeUsage)
            await sse.WriteAsync(new ChatCompletionChunk { Id = id, Created = created, Model = model, Choices = [], Usage = UsageOf(summary) }, type);
        await sse.WriteDoneAsync();
    }

    internal static Usage UsageOf(GenerationSummary s) => new()
    {
        PromptTokens = s.PromptTokens,
        CompletionTokens = s.CompletionTokens,
        PromptTokensDetails = new PromptTokensDetails { CachedTokens = s.CachedPromptTokens },
    };

    private static List<(string Role, string Content)> Validate(ChatCompletionRequest request)
    {
        if (request.Messages is not { Count: > 0 } messages)
            throw ApiException.BadRequest("messages must be a non-empty array.", "messages");
        var turns = new List<(string Role, string Content)>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role is null || !Roles.Contains(m.Role))
                throw ApiException.BadRequest($"messages[{i}].role must be one of {string.Join(", ", Roles)}; got '{m.Role}'.", $"messages[{i}].role");
            if (m.Content is null && m.Role != "assistant")
                throw ApiException.BadRequest($"messages[{i}].content is required for role '{m.Role}'.", $"messages[{i}].content");
            // developer is OpenAI's newer name for system.
            turns.Add((m.Role == "developer" ? "system" : m.Role, m.Content?.Text ?? ""));
        }
        if (request.Tools is { ValueKind: System.Text.Json.JsonValueKind.Array } tools && tools.GetArrayLength() > 0)
            throw ApiException.BadRequest("Tool calling is not supported by this server.", "tools");
        if (request.TopLogprobs is { } top && (top < 0 || top > 20))
            throw SamplingValidator.OutOfRange("top_logprobs", "between 0 and 20", top);
        if (request.TopLogprobs is not null && request.Logprobs != true)
            throw ApiException.BadRequest("top_logprobs needs logprobs set to true.", "top_logprobs");
        return turns;
    }
}
