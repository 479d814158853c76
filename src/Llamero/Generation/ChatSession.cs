using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Llamero.Chat;

namespace Llamero.Generation;

/// <summary>
/// A conversation with a model that keeps its earlier turns in the KV cache: each turn evaluates only the text the
/// template adds for the new message (llama.cpp's <c>common_chat_format_single</c> difference), so earlier turns are
/// never evaluated again. A failed turn (bad options, a prompt that does not fit) leaves the conversation as it was;
/// a cancelled turn keeps the partial answer. Not thread-safe: one turn at a time.
/// </summary>
public sealed class ChatSession : IDisposable
{
    private readonly Generator _generator;
    private readonly bool _ownsSession;
    private readonly List<ChatMessage> _messages = [];
    private string? _cachedText; // the text the cached tokens stand for, when known exactly

    /// <summary>Starts a conversation on <paramref name="generator"/>'s session (emptied first).</summary>
    public ChatSession(Generator generator, ChatTemplate template, string? systemPrompt = null, bool ownsSession = false)
    {
        _generator = generator ?? throw new ArgumentNullException(nameof(generator));
        Template = template ?? throw new ArgumentNullException(nameof(template));
        _ownsSession = ownsSession;
        SystemPrompt = string.IsNullOrEmpty(systemPrompt) ? null : systemPrompt;
        Reset();
    }

    /// <summary>The prompt format.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The system message that opens the conversation, if any.</summary>
    public string? SystemPrompt { get; private set; }

    /// <summary>The conversation so far, the system message first.</summary>
    public IReadOnlyList<ChatMessage> Messages => _messages;

    /// <summary>Counts and times of the last turn.</summary>
    public GenerationTimings? LastTimings { get; private set; }

    /// <summary>Why the last turn ended (null while running or after a failure).</summary>
    public FinishReason? LastFinishReason { get; private set; }

    /// <summary>Tokens the KV cache holds now.</summary>
    public int CachedTokens => _generator.Tokens.Count;

    /// <summary>The context size of the session.</summary>
    public int ContextSize => _generator.Session.ContextSize;

    /// <summary>Forgets the conversation (keeping the system prompt) and empties the KV cache.</summary>
    public void Reset()
    {
        _generator.Reset();
        _messages.Clear();
        if (SystemPrompt is not null)
            _messages.Add(ChatMessage.System(SystemPrompt));
        _cachedText = null;
    }

    /// <summary>Sends a user message and streams the answer's text.</summary>
    public async IAsyncEnumerable<string> SendAsync(string message, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var token in SendTokensAsync(message, options, cancellationToken))
        {
            if (token.Text.Length > 0)
                yield return token.Text;
        }
    }

    /// <summary>Sends a user message and streams the answer token by token (the last item says why it ended).</summary>
    public async IAsyncEnumerable<GeneratedToken> SendTokensAsync(string message, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        options ??= new GenerationOptions();
        options.Validate();
        options = options with { StopStrings = [.. options.StopStrings, .. Template.StopStrings] };
        LastFinishReason = null;

        List<ChatMessage> next = [.. _messages, ChatMessage.User(message)];
        var target = Template.Render(next, addAssistantPrefix: true);
        var prompt = PromptTokens(target);

        var answer = new StringBuilder();
        var raw = new StringBuilder(); // every generated token's text, stop strings included: what the cache holds
        var rawDecoder = _generator.Tokenizer.CreateStreamingDecoder();
        var completed = false;
        var started = false;
        try
        {
            await foreach (var token in _generator.GenerateAsync(prompt, options, cancellationToken))
            {
                started = true;
                if (token.Id >= 0 && !(token.IsLast && token.FinishReason == FinishReason.EndOfGeneration))
                    raw.Append(rawDecoder.Append(token.Id));
                answer.Append(token.Text);
                if (token.IsLast)
                {
                    LastTimings = token.Timings;
                    LastFinishReason = token.FinishReason;
                    _cachedText = token.Timings!.ContextShifts > 0 ? null : target + raw;
                    completed = true;
                }
                yield return token;
            }
        }
        finally
        {
            // A cancelled answer stays in the conversation, as far as it got; a turn rejected before its first
            // token leaves no trace.
            if (started)
            {
                _messages.Add(ChatMessage.User(message));
                _messages.Add(ChatMessage.Assistant(answer.ToString()));
            }
            if (!completed)
                _cachedText = null;
        }
    }

    // The tokens to evaluate for `target`, after trimming the cache to what it shares with it. Throws before
    // anything changes when they cannot fit.
    private int[] PromptTokens(string target)
    {
        var tokenizer = _generator.Tokenizer;
        int[] tokens;
        int keep;
        if (_generator.Tokens.Count > 0 && _cachedText is not null && target.StartsWith(_cachedText, StringComparison.Ordinal))
        {
            tokens = tokenizer.Encode(target[_cachedText.Length..], addSpecial: false, parseSpecial: true);
            keep = _generator.Tokens.Count;
        }
        else
        {
            var full = tokenizer.Encode(target, addSpecial: true, parseSpecial: true);
            keep = _generator.CommonPrefix(full);
            tokens = full[keep..];
        }
        var context = _generator.Session.ContextSize;
        if (tokens.Length > context)
            throw new PromptTooLongException(tokens.Length, context, context);
        if (keep < _generator.Tokens.Count)
        {
            _generator.Truncate(keep);
            _cachedText = null;
        }
        return tokens;
    }

    /// <summary>Writes the conversation (template, system prompt, messages) to a JSON file.</summary>
    public void Save(string path)
    {
        var state = new SavedChat(Template.Name, SystemPrompt, [.. _messages.Select(m => new SavedMessage(m.Role, m.Content))]);
        File.WriteAllText(path, JsonSerializer.Serialize(state, SavedChatJson.Default.SavedChat));
    }

    /// <summary>
    /// Replaces the conversation with one written by <see cref="Save"/>. The KV cache is emptied; the next turn
    /// evaluates the loaded conversation once.
    /// </summary>
    public void Load(string path)
    {
        SavedChat? state;
        try
        {
            state = JsonSerializer.Deserialize(File.ReadAllText(path), SavedChatJson.Default.SavedChat);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not a saved conversation: {e.Message}", e);
        }
        if (state?.Messages is null || state.Messages.Any(m => m.Role is null || m.Content is null))
            throw new InvalidDataException($"{path} is not a saved conversation (no messages)");
        _generator.Reset();
        _cachedText = null;
        _messages.Clear();
        _messages.AddRange(state.Messages.Select(m => new ChatMessage(m.Role, m.Content)));
        SystemPrompt = _messages.FirstOrDefault(m => m.Role == "system")?.Content;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsSession)
            _generator.Session.Dispose();
    }
}
