using System.Runtime.CompilerServices;
using System.Text;
using Llamero.Generation;
using Llamero.Models;
using Llamero.Tokenization;
using Microsoft.Extensions.AI;
using LlameroChat = Llamero.Chat;

namespace Llamero.Extensions.AI;

/// <summary>
/// <see cref="IChatClient"/> over a local model: messages go through the chat template, the library's generator
/// answers, plain or streamed. <see cref="ChatOptions"/> maps Temperature, TopP, TopK, MaxOutputTokens,
/// StopSequences, Seed, FrequencyPenalty and PresencePenalty. Safe under concurrent calls: each call rents one of
/// up to <c>maxConcurrency</c> sessions (waiting when all are busy), preferring the one whose cache already holds the
/// start of its conversation.
/// </summary>
public sealed class LlameroChatClient : IChatClient
{
    private readonly GeneratorPool _pool;
    private readonly Tokenizer _tokenizer;
    private readonly LlameroChat.ChatTemplate _template;
    private readonly ChatClientMetadata _metadata;

    /// <summary>
    /// A client over sessions made by <paramref name="createSession"/> (e.g. <c>() => model.CreateSession(2048)</c>).
    /// </summary>
    /// <param name="createSession">Creates a KV-cache session over the shared weights.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="template">The chat template (see <see cref="CompletionTemplate.Resolve"/>).</param>
    /// <param name="modelId">The id reported in responses.</param>
    /// <param name="maxConcurrency">Sessions that may generate at once; more callers wait.</param>
    public LlameroChatClient(Func<IModelSession> createSession, Tokenizer tokenizer, LlameroChat.ChatTemplate template,
        string modelId, int maxConcurrency = 1)
    {
        ArgumentNullException.ThrowIfNull(createSession);
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _template = template ?? throw new ArgumentNullException(nameof(template));
        _pool = new GeneratorPool(createSession, tokenizer, maxConcurrency);
        _metadata = new ChatClientMetadata("llamero", defaultModelId: modelId);
    }

    /// <summary>
    /// A client over a loaded model: sessions of <paramref name="contextSize"/> tokens (0 = the model's trained
    /// length), the template named <paramref name="chatTemplate"/> or the file's own (else plain completion).
    /// The model stays the caller's: dispose it after the client.
    /// </summary>
    public static LlameroChatClient Create(LlamaModel model, int contextSize = 0, string? chatTemplate = null, int maxConcurrency = 1)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokenizer = Tokenizer.FromGguf(model.File);
        var fromFile = LlameroChat.ChatTemplates.Detect(model.File.GetOrDefault<string?>("tokenizer.chat_template", null));
        var template = CompletionTemplate.Resolve(chatTemplate, fromFile);
        var size = contextSize > 0 ? contextSize : model.Config.ContextLength;
        return new LlameroChatClient(() => model.CreateSession(size), tokenizer, template,
            Path.GetFileNameWithoutExtension(model.File.Path), maxConcurrency);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        UsageDetails? usage = null;
        string? id = null;
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            id ??= update.ResponseId;
            finish = update.FinishReason ?? finish;
            foreach (var content in update.Contents)
            {
                if (content is TextContent t)
                    text.Append(t.Text);
                else if (content is UsageContent u)
                    usage = u.Details;
            }
        }
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text.ToString()))
        {
            ResponseId = id,
            ModelId = _metadata.DefaultModelId,
            CreatedAt = DateTimeOffset.UtcNow,
            FinishReason = finish,
            Usage = usage,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages,
        ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var generation = ChatOptionsMapper.ToGenerationOptions(options, _template.StopStrings);
        var turns = messages.Select(m => new LlameroChat.ChatMessage(m.Role.Value, m.Text)).ToList();
        var prompt = _tokenizer.Encode(_template.Render(turns, addAssistantPrefix: true), addSpecial: true, parseSpecial: true);
        var id = "llamero-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;

        using var lease = await _pool.RentAsync(prompt, cancellationToken);
        var generator = lease.Generator;
        var cached = generator.ReusePrefix(prompt);
        var generated = 0;
        await foreach (var token in generator.GenerateAsync(prompt[cached..], generation, cancellationToken))
        {
            if (token.Id >= 0)
                generated++;
            var update = new ChatResponseUpdate(ChatRole.Assistant, token.Text)
            {
                ResponseId = id,
                MessageId = id,
                ModelId = _metadata.DefaultModelId,
                CreatedAt = created,
            };
            if (token.FinishReason is { } reason)
            {
                update.FinishReason = ChatOptionsMapper.ToFinishReason(reason);
                update.Contents.Add(new UsageContent(new UsageDetails
                {
                    InputTokenCount = prompt.Length,
                    OutputTokenCount = generated,
                    TotalTokenCount = prompt.Length + generated,
                    CachedInputTokenCount = cached,
                }));
            }
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
            return null;
        if (serviceType == typeof(ChatClientMetadata))
            return _metadata;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <summary>Releases the sessions (not the model they were made from).</summary>
    public void Dispose() => _pool.Dispose();
}
