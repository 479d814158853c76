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
    // Everything fed to the cache so far as one text (the rendered prompts plus the generated tokens' text), when
    // known exactly. A context shift drops tokens from the middle but leaves the end, which is all a new turn
    // appends to, so it stays valid across shifts.
    private string? _cachedText;
    private int[]? _replay; // tokens of a loaded conversation, evaluated at the start of the next turn

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
        var prompt = PromptTokens(target, next);

        var answer = new StringBuilder();
        var raw = new StringBuilder(); // every generated token's text, stop strings included: what the cache holds
        var rawDecoder = _generator.Tokenizer.CreateStreamingDecoder();
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
            // Once a token came back the prompt is in the cache, and so is every token whose text is in `raw`.
            _cachedText = started ? target + raw : null;
        }
    }

    // The tokens to evaluate for `target` (the rendering of `next`), after trimming the cache to what it shares
    // with it. Throws before anything changes when they cannot fit.
    private int[] PromptTokens(string target, List<ChatMessage> next)
    {
        var tokenizer = _generator.Tokenizer;
        int[] tokens;
        int keep;
        var replay = _replay;
        _replay = null;
        var cached = replay ?? (IReadOnlyList<int>)_generator.Tokens;
        if (cached.Count > 0 && _cachedText is not null
            && (target.StartsWith(_cachedText, StringComparison.Ordinal) ? target[_cachedText.Length..] : Bridge(target)) is { } text)
        {
            var added = tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
            tokens = replay is null ? added : [.. replay, .. added];
            keep = _generator.Tokens.Count;
        }
        else
        {
            var full = FittingConversation(next);
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

    // When the template renders the answer a little differently from how it was generated (Vicuna writes
    // "ASSISTANT: " before an answer that starts with its own space), the cache does not spell a prefix of the new
    // prompt. As llama.cpp's common_chat_format_single does, take what the template adds after the previous
    // render, preceded by what it wrote after the answer's text (its end-of-turn, such as "</s>\n").
    private string? Bridge(string target)
    {
        if (_messages.Count == 0 || _messages[^1] is not { Role: "assistant", Content.Length: > 0 } answer)
            return null;
        var past = Template.Render(_messages, addAssistantPrefix: false);
        var at = past.LastIndexOf(answer.Content, StringComparison.Ordinal);
        if (at < 0 || !target.StartsWith(past, StringComparison.Ordinal))
            return null;
        return past[(at + answer.Content.Length)..] + target[past.Length..];
    }

    // The whole conversation as tokens, leaving out its oldest turns (never the system message or the new one)
    // until it fits in the context with a quarter to spare for the answer: what a re-evaluation needs when the
    // cache cannot simply be extended (after /load, or when a template rewrites earlier turns).
    private int[] FittingConversation(List<ChatMessage> next)
    {
        var tokenizer = _generator.Tokenizer;
        var budget = _generator.Session.ContextSize - Math.Min(256, _generator.Session.ContextSize / 4);
        var messages = new List<ChatMessage>(next);
        while (true)
        {
            var tokens = tokenizer.Encode(Template.Render(messages, addAssistantPrefix: true), addSpecial: true, parseSpecial: true);
            var oldest = messages.FindIndex(m => m.Role != "system");
            if (tokens.Length <= budget || oldest < 0 || oldest == messages.Count - 1)
                return tokens;
            messages.RemoveAt(oldest);
        }
    }

    /// <summary>Writes the conversation (template, system prompt, messages, and the tokens of the KV cache) to a JSON file.</summary>
    public void Save(string path)
    {
        var state = new SavedChat(Template.Name, SystemPrompt, [.. _messages.Select(m => new SavedMessage(m.Role, m.Content))])
        {
            Tokens = _cachedText is null ? null : [.. _replay ?? _generator.Tokens],
            Text = _cachedText,
        };
        File.WriteAllText(path, JsonSerializer.Serialize(state, SavedChatJson.Default.SavedChat));
    }

    /// <summary>
    /// Replaces the conversation with one written by <see cref="Save"/>. The saved file holds the exact token
    /// sequence the KV cache held, so the next turn rebuilds the same cache in one batch (then adds only its new
    /// text); a file from another template or vocabulary falls back to re-tokenizing the conversation.
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
        _messages.Clear();
        _messages.AddRange(state.Messages.Select(m => new ChatMessage(m.Role, m.Content)));
        // The exact tokens the cache held come back when they fit this model and template; otherwise the next
        // turn re-tokenizes the conversation.
        var vocab = _generator.Session.VocabSize;
        var usable = state.Tokens is { Length: > 0 } saved && state.Text is not null && state.Template == Template.Name
                     && saved.Length <= _generator.Session.ContextSize && saved.All(t => (uint)t < (uint)vocab);
        _replay = usable ? state.Tokens : null;
        _cachedText = usable ? state.Text : null;
        SystemPrompt = _messages.FirstOrDefault(m => m.Role == "system")?.Content;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsSession)
            _generator.Session.Dispose();
    }
}
