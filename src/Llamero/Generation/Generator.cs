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
        var run = Prepare(prompt, options);
        await Task.Yield();
        var timings = new TimingsBuilder();
        // The session's logits span is only valid until its next call and cannot live across a yield: copy it.
        var logits = new float[Session.VocabSize];
        EvaluatePrompt(run.Input, options, timings, cancellationToken).CopyTo(logits);
        var single = new int[1];

        var decoder = Tokenizer.CreateStreamingDecoder();
        var stops = new StopStringMatcher(options.StopStrings);
        var generated = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (options.MaxTokens >= 0 && generated >= options.MaxTokens)
            {
                yield return Last(-1, decoder.Flush(), stops, FinishReason.MaxTokens, timings);
                yield break;
            }

            var started = Stopwatch.GetTimestamp();
            var token = run.Chain.Sample(logits);
            run.Chain.Accept(token);
            timings.Sample += Stopwatch.GetElapsedTime(started);
            var (logProb, top) = Scores(logits, token, options);
            timings.Sampled++;
            generated++;

            // A sampled BOS starts a new document (llama2.c's rule; stories260K separates its stories so), which
            // ends this one just as EOS does. Chat models never sample BOS, so nothing changes for them.
            if (Tokenizer.IsEndOfGeneration(token) || token == Tokenizer.BosId)
            {
                yield return Last(token, decoder.Flush(), stops, FinishReason.EndOfGeneration, timings);
                yield break;
            }

            _pending = token;
            var text = stops.Push(decoder.Append(token));
            yield return new GeneratedToken(token, text)
            {
                LogProb = logProb,
                TopLogProbs = top,
            };
            if (stops.Matched)
            {
                yield return Last(-1, "", stops, FinishReason.StopString, timings);
                yield break;
            }
            if (options.MaxTokens >= 0 && generated >= options.MaxTokens)
                continue; // reported at the top of the loop without evaluating the token

            cancellationToken.ThrowIfCancellationRequested();
            if (!MakeRoom(1, options, run.Keep, timings))
            {
                yield return Last(-1, decoder.Flush(), stops, FinishReason.ContextFull, timings);
                yield break;
            }
            started = Stopwatch.GetTimestamp();
            single[0] = token;
            Session.Evaluate(single).CopyTo(logits);
            timings.Eval += Stopwatch.GetElapsedTime(started);
            timings.EvalRuns++;
            _tokens.Add(token);
            _pending = null;
        }
    }

    private static (float? LogProb, TokenLogProb[]? Top) Scores(ReadOnlySpan<float> logits, int token, GenerationOptions options)
    {
        if (!options.LogProbs && options.TopLogProbs == 0)
            return (null, null);
        var logSum = LogProbs.LogSumExp(logits);
        return (logits[token] - logSum, options.TopLogProbs > 0 ? LogProbs.Top(logits, logSum, options.TopLogProbs) : null);
    }

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

    private ReadOnlySpan<float> EvaluatePrompt(int[] input, GenerationOptions options, TimingsBuilder timings, CancellationToken cancellationToken)
    {
        if (!MakeRoom(input.Length, options, KeepCount(options, input), timings))
            throw new PromptTooLongException(input.Length, Session.ContextSize - _tokens.Count, Session.ContextSize);
        _pending = null;
        if (_tokens.Count == 0)
            _firstPromptLength = input.Length;
        ReadOnlySpan<float> logits = default;
        for (var start = 0; start < input.Length; start += options.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = input.AsSpan(start, Math.Min(options.BatchSize, input.Length - start));
            var began = Stopwatch.GetTimestamp();
            logits = Session.Evaluate(batch);
            timings.Prompt += Stopwatch.GetElapsedTime(began);
            timings.PromptTokens += batch.Length;
            _tokens.AddRange(batch);
        }
        return logits;
    }

    // Frees room for `count` more tokens: llama.cpp's context shift keeps `keep` tokens and drops half of the rest.
    private bool MakeRoom(int count, GenerationOptions options, int keep, TimingsBuilder timings)
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

    private static GeneratedToken Last(int id, string flushed, StopStringMatcher stops, FinishReason reason, TimingsBuilder timings)
    {
        var text = stops.Matched ? "" : stops.Push(flushed) + stops.Flush();
        return new GeneratedToken(id, text) { FinishReason = reason, Timings = timings.Build() };
    }

    private sealed class TimingsBuilder
    {
        public TimeSpan Prompt;
        public int PromptTokens;
        public TimeSpan Eval;
        public int EvalRuns;
        public TimeSpan Sample;
        public int Sampled;
        public int Shifts;

        public GenerationTimings Build() => new()
        {
            PromptTime = Prompt, PromptTokens = PromptTokens, EvalTime = Eval, EvalRuns = EvalRuns,
            SampleTime = Sample, SampledTokens = Sampled, ContextShifts = Shifts,
        };
    }
}
