using System.Runtime.CompilerServices;
using System.Text;
using Llamero.Chat;
using Llamero.Generation;
using Llamero.Models;
using Llamero.Tokenization;

namespace Llamero;

/// <summary>How <see cref="Llm.Load"/> sets a model up.</summary>
public sealed record LlmOptions
{
    /// <summary>Context size (KV cache positions) of each session; 0 uses the model's trained context, capped at
    /// <see cref="DefaultMaxContext"/>.</summary>
    public int ContextSize { get; init; }

    /// <summary>Chat template name (llama.cpp's names, or <c>completion</c>); null uses the model's own template,
    /// else the plain completion template.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>How each session's KV cache stores keys and values (llama.cpp's -ctk/-ctv); null:
    /// <see cref="KvCacheOptions.Default"/>.</summary>
    public KvCacheOptions? CacheTypes { get; init; }

    /// <summary>Reports the fraction of the weights read (0..1) while loading.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>
    /// Repack the weight matrices at load time into the interleaved layouts the fast kernels read, as llama.cpp's CPU
    /// backend does (default true; see <see cref="ModelLoadOptions.RepackWeights"/>). False is llama.cpp's
    /// <c>-nr/--no-repack</c>: the matrices are multiplied where they lie in the mapped file, which loads faster and
    /// shares the file's pages with other processes, at some speed.
    /// </summary>
    public bool RepackWeights { get; init; } = true;

    /// <summary>The largest context chosen by default (llama.cpp's default too).</summary>
    public const int DefaultMaxContext = 4096;
}

/// <summary>
/// The plain C# API: load a GGUF model, then generate or chat, streaming text.
/// <code>
/// using var llm = Llm.Load("models/stories260K.gguf");
/// await foreach (var piece in llm.GenerateAsync("Once upon a time", new() { MaxTokens = 64 }))
///     Console.Write(piece);
/// </code>
/// One generation at a time per <see cref="Llm"/> (it keeps one KV cache and reuses the prompt prefix it shares
/// with the previous call); each <see cref="StartChat"/> conversation has its own cache.
/// </summary>
public sealed class Llm : IDisposable
{
    private readonly LlamaModel _model;
    private readonly Generator _generator;
    private int _busy;

    private Llm(LlamaModel model, Tokenizer tokenizer, ChatTemplate template, int contextSize, KvCacheOptions? cacheTypes, TimeSpan loadTime)
    {
        _model = model;
        CacheTypes = cacheTypes ?? KvCacheOptions.Default;
        Tokenizer = tokenizer;
        ChatTemplate = template;
        ContextSize = contextSize;
        LoadTime = loadTime;
        _generator = new Generator(model.CreateSession(contextSize, CacheTypes), tokenizer);
    }

    /// <summary>Loads the model at <paramref name="path"/>.</summary>
    public static Llm Load(string path, LlmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new LlmOptions();
        if (options.ContextSize < 0)
            throw new ArgumentException($"context size must be 0 (the model's) or positive, got {options.ContextSize}");
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"model file not found: {path}", path);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var model = LlamaModel.Load(path, new ModelLoadOptions { RepackWeights = options.RepackWeights }, options.Progress);
        try
        {
            var tokenizer = Tokenizer.FromGguf(model.File);
            var template = CompletionTemplate.Resolve(options.ChatTemplate, ChatTemplates.Detect(model.File.GetOrDefault<string?>("tokenizer.chat_template", null)));
            var context = options.ContextSize > 0 ? options.ContextSize : Math.Min(model.Config.ContextLength, LlmOptions.DefaultMaxContext);
            return new Llm(model, tokenizer, template, context, options.CacheTypes, System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The loaded model.</summary>
    public LlamaModel Model => _model;

    /// <summary>The model's tokenizer.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The prompt format chats use.</summary>
    public ChatTemplate ChatTemplate { get; }

    /// <summary>Context size of each session.</summary>
    public int ContextSize { get; }

    /// <summary>How the sessions' KV caches store keys and values.</summary>
    public KvCacheOptions CacheTypes { get; }

    /// <summary>How long loading took.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>Counts and times of the last <see cref="GenerateAsync"/> or <see cref="ChatAsync"/>.</summary>
    public GenerationTimings? LastTimings { get; private set; }

    /// <summary>Why the last generation ended.</summary>
    public FinishReason? LastFinishReason { get; private set; }

    /// <summary>Streams the continuation of <paramref name="prompt"/> (BOS added as the vocabulary asks; control
    /// tokens in the text are parsed).</summary>
    public IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default) =>
        Text(GenerateTokensAsync(prompt, options, cancellationToken));

    /// <summary>As <see cref="GenerateAsync"/>, token by token (the last item says why it ended).</summary>
    public IAsyncEnumerable<GeneratedToken> GenerateTokensAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Run(Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true), options ?? new GenerationOptions(), cancellationToken);
    }

    /// <summary>Generates the next assistant message for <paramref name="messages"/>, rendered with
    /// <see cref="ChatTemplate"/>; generation stops at the template's end-of-turn strings.</summary>
    public IAsyncEnumerable<string> ChatAsync(IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new GenerationOptions();
        var prompt = ChatTemplate.Render(messages, addAssistantPrefix: true);
        var tokens = Tokenizer.Encode(prompt, addSpecial: true, parseSpecial: true);
        return Text(Run(tokens, options with { StopStrings = [.. options.StopStrings, .. ChatTemplate.StopStrings] }, cancellationToken));
    }

    /// <summary>Generates the whole continuation of <paramref name="prompt"/> as one string.</summary>
    public async Task<string> CompleteAsync(string prompt, GenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        await foreach (var piece in GenerateAsync(prompt, options, cancellationToken))
            text.Append(piece);
        return text.ToString();
    }

    /// <summary>Starts a conversation with its own KV cache (dispose it when done).</summary>
    public ChatSession StartChat(string? systemPrompt = null, ChatTemplate? template = null) =>
        new(new Generator(_model.CreateSession(ContextSize, CacheTypes), Tokenizer), template ?? ChatTemplate, systemPrompt, ownsSession: true);

    private async IAsyncEnumerable<GeneratedToken> Run(int[] tokens, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _busy, 1) != 0)
            throw new InvalidOperationException("this Llm is already generating: run one generation at a time, or use StartChat for each conversation");
        try
        {
            options.Validate();
            if (tokens.Length > ContextSize)
                throw new PromptTooLongException(tokens.Length, ContextSize, ContextSize);
            var cached = _generator.ReusePrefix(tokens);
            await foreach (var token in _generator.GenerateAsync(tokens[cached..], options, cancellationToken))
            {
                if (token.IsLast)
                {
                    LastTimings = token.Timings;
                    LastFinishReason = token.FinishReason;
                }
                yield return token;
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private static async IAsyncEnumerable<string> Text(IAsyncEnumerable<GeneratedToken> tokens)
    {
        await foreach (var token in tokens)
        {
            if (token.Text.Length > 0)
                yield return token.Text;
        }
    }

    /// <summary>Releases the KV cache and unmaps the model.</summary>
    public void Dispose()
    {
        _generator.Session.Dispose();
        _model.Dispose();
    }
}
