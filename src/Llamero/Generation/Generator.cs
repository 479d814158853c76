using System.Diagnostics;
using System.Runtime.CompilerServices;
using Llamero.Models;
using Llamero.Sampling;
using Llamero.Tokenization;

namespace Llamero.Generation;

/// <summary>
/// The one streaming generator that the CLI, the server and the chat client all use. It drives one
/// <see cref="IModelSession"/> and remembers which tokens its KV cache holds, so a caller can continue where the
/// last generation stopped (a chat turn evaluates only its new tokens) or reuse the longest common prefix of a
/// new prompt (<see cref="ReusePrefix"/>). Not thread-safe: one generation at a time.
/// </summary>
public sealed class Generator
{
    private readonly List<int> _tokens = [];
    private int? _pending;
    private int _firstPromptLength;

    /// <summary>Wraps <paramref name="session"/>; tokens already in it are treated as unknown (never reused).</summary>
    public Generator(IModelSession session, Tokenizer tokenizer)
    {
        Session = session ?? throw new ArgumentNullException(nameof(session));
        Tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        for (var i = 0; i < session.Position; i++)
            _tokens.Add(-1);
    }

    /// <summary>The model session being driven.</summary>
    public IModelSession Session { get; }

    /// <summary>The tokenizer used to decode the output.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>The tokens in the KV cache, in order, followed by the last generated token when it was not
    /// evaluated yet (the next <see cref="GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/> evaluates it first).</summary>
    public IReadOnlyList<int> Tokens => _pending is { } p ? [.. _tokens, p] : _tokens;

    /// <summary>One-shot convenience: a fresh generator over <paramref name="session"/> generating from <paramref name="prompt"/>.</summary>
    public static IAsyncEnumerable<GeneratedToken> GenerateAsync(IModelSession session, Tokenizer tokenizer,
        IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellationToken = default) =>
        new Generator(session, tokenizer).GenerateAsync(prompt, options, cancellationToken);

    /// <summary>Empties the KV cache.</summary>
    public void Reset()
    {
        Session.Truncate(0);
        _tokens.Clear();
        _pending = null;
    }

    /// <summary>
    /// Keeps the longest prefix of the cache that equals the start of <paramref name="prompt"/> (always leaving at
    /// least the last prompt token to evaluate) and forgets the rest. Returns how many prompt tokens are already
    /// cached: pass <c>prompt[n..]</c> to <see cref="GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/>.
    /// </summary>
    public int ReusePrefix(IReadOnlyList<int> prompt)
    {
        var same = CommonPrefix(prompt);
        Truncate(same);
        return same;
    }

    /// <summary>How many leading tokens of <paramref name="prompt"/> the cache already holds (at most all but the last).</summary>
    public int CommonPrefix(IReadOnlyList<int> prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var limit = Math.Min(_tokens.Count, prompt.Count - 1);
        var same = 0;
        while (same < limit && _tokens[same] == prompt[same])
            same++;
        return same;
    }

    /// <summary>Forgets every cached token at or after <paramref name="position"/>.</summary>
    public void Truncate(int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        _pending = null;
        if (position >= _tokens.Count)
            return;
        Session.Truncate(position);
        _tokens.RemoveRange(position, _tokens.Count - position);
    }

    /// <summary>
    /// Evaluates <paramref name="prompt"/> after what the cache holds and streams the continuation. Validates the
    /// options and the prompt length before touching the cache: on <see cref="ArgumentException"/> (including
    /// <see cref="PromptTooLongException"/>) nothing changed. Cancellation throws
    /// <see cref="OperationCanceledException"/> between batches and tokens, leaving the cache consistent.
    /// </summary>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var steps = Start(prompt, options);
        await Task.Yield();
        while (!steps.IsFinished)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var item in Step(steps, options.BatchSize))
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return item;
            }
        }
    }

    /// <summary>
    /// Starts a generation of <paramref name="prompt"/> (after what the cache holds) that the caller drives step by
    /// step, evaluating the model itself (<see cref="GenerationStepper"/>); validates as
    /// <see cref="GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/> does. Run one at a time.
    /// </summary>
    public GenerationStepper Start(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        var run = Prepare(prompt, options);
        return new GenerationStepper(this, run.Input, run.Chain, run.Keep, options);
    }

    // One step evaluated on this generator's own session.
    private IReadOnlyList<GeneratedToken> Step(GenerationStepper steps, int batchSize)
    {
        var input = steps.TakeInput(batchSize);
        var started = Stopwatch.GetTimestamp();
        var logits = Session.Evaluate(input.Span);
        return steps.Accept(logits, Stopwatch.GetElapsedTime(started));
    }

    // Before the first prompt token is evaluated: room for the whole input, or the prompt does not fit.
    internal void BeginPrompt(int[] input, GenerationOptions options, int keep, GenerationStepper.Timings timings)
    {
        if (!MakeRoom(input.Length, options, keep, timings))
            throw new PromptTooLongException(input.Length, Session.ContextSize - _tokens.Count, Session.ContextSize);
        _pending = null;
        if (_tokens.Count == 0)
            _firstPromptLength = input.Length;
    }

    // Tokens just appended to the session's cache.
    internal void Evaluated(ReadOnlySpan<int> tokens)
    {
        _tokens.AddRange(tokens);
        _pending = null;
    }

    // A token sampled and not evaluated yet: the next generation evaluates it first unless this one does.
    internal void Sampled(int token) => _pending = token;

    private sealed record Run(int[] Input, SamplerChain Chain, int Keep);

    // Everything that can reject the request, before the cache changes.
    private Run Prepare(IReadOnlyList<int> prompt, GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int[] input = _pending is { } p ? [p, .. prompt] : [.. prompt];
        if (input.Length == 0)
            throw new ArgumentException("the prompt is empty: give at least one token (usually BOS)");
        foreach (var id in input)
        {
            if ((uint)id >= (uint)Session.VocabSize)
                throw new ArgumentException($"prompt token {id} is outside the vocabulary (0..{Session.VocabSize - 1})");
        }

        var context = Session.ContextSize;
        var keep = KeepCount(options, input);
        // With a context shift, earlier tokens after the kept ones can make room; the prompt itself must fit.
        var available = options.ContextShift ? context - Math.Min(keep, _tokens.Count) : context - _tokens.Count;
        if (input.Length > available || input.Length > context)
            throw new PromptTooLongException(input.Length, Math.Min(available, context), context);

        var sampling = options.Sampling;
        if (options.IgnoreEos)
        {
            var bias = new Dictionary<int, float>(sampling.LogitBias ?? new Dictionary<int, float>());
            foreach (var id in Tokenizer.EndOfGenerationIds.Append(Tokenizer.BosId).Where(id => id >= 0))
                bias[id] = float.NegativeInfinity;
            sampling = sampling with { LogitBias = bias };
        }
        var chain = SamplerChain.Create(sampling, Session.VocabSize, context, Tokenizer);
        return new Run(input, chain, keep);
    }

    // llama.cpp: n_keep counts tokens of the first prompt after BOS (BOS is always kept); -1, or more than
    // the first prompt holds, keeps the whole first prompt.
    private int KeepCount(GenerationOptions options, int[] input)
    {
        var firstPrompt = _tokens.Count == 0 ? input.Length : _firstPromptLength;
        var first = _tokens.Count > 0 ? _tokens[0] : input[0];
        var bos = Tokenizer.AddBos && first == Tokenizer.BosId ? 1 : 0;
        return options.Keep < 0 ? firstPrompt : Math.Min(options.Keep + bos, firstPrompt);
    }

    // Frees room for `count` more tokens: llama.cpp's context shift keeps `keep` tokens and drops half of the rest.
    internal bool MakeRoom(int count, GenerationOptions options, int keep, GenerationStepper.Timings timings)
    {
        while (_tokens.Count + count > Session.ContextSize)
        {
            if (!options.ContextShift)
                return false;
            var discard = (_tokens.Count - keep) / 2;
            if (discard <= 0)
                return false;
            Session.Shift(keep, discard);
            _tokens.RemoveRange(keep, discard);
            timings.Shifts++;
        }
        return true;
    }
}
