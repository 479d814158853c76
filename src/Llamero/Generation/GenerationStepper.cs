using System.Diagnostics;
using Llamero.Sampling;
using Llamero.Tokenization;

namespace Llamero.Generation;

/// <summary>
/// One generation of a <see cref="Generator"/> driven by its caller, for callers that evaluate the model themselves
/// (a server batching many sequences into one forward pass per step). Each step: <see cref="TakeInput"/> says which
/// tokens the generator's session must evaluate next (a chunk of the prompt, or the token just sampled), the caller
/// evaluates exactly those on that session, and <see cref="Accept"/> takes the logits of the last one and returns the
/// stream items they produce (sampling, stop strings, logprobs, context shift, as
/// <see cref="Generator.GenerateAsync(IReadOnlyList{int}, GenerationOptions, CancellationToken)"/>, which is this
/// loop over the session's own evaluation). Made by <see cref="Generator.Start"/>. Not thread-safe.
/// </summary>
public sealed class GenerationStepper
{
    private readonly Generator _generator;
    private readonly int[] _input;          // what the cache lacks: the pending token (if any), then the prompt
    private readonly SamplerChain _chain;
    private readonly int _keep;
    private readonly GenerationOptions _options;
    private readonly StreamingDecoder _decoder;
    private readonly StopStringMatcher _stops;
    private readonly Timings _timings = new();
    private readonly List<GeneratedToken> _items = [];
    private readonly int[] _sampled = new int[1];
    private int _promptDone;                // input tokens evaluated
    private int _taken;                     // tokens handed out by TakeInput, waiting for Accept
    private int _generated;

    internal GenerationStepper(Generator generator, int[] input, SamplerChain chain, int keep, GenerationOptions options)
    {
        _generator = generator;
        _input = input;
        _chain = chain;
        _keep = keep;
        _options = options;
        _decoder = generator.Tokenizer.CreateStreamingDecoder();
        _stops = new StopStringMatcher(options.StopStrings);
    }

    /// <summary>True once the last item (the one with a <see cref="GeneratedToken.FinishReason"/>) was returned.</summary>
    public bool IsFinished { get; private set; }

    /// <summary>Prompt tokens not evaluated yet (0 once generating).</summary>
    public int PromptRemaining => _input.Length - _promptDone;

    /// <summary>
    /// The next tokens to evaluate: up to <paramref name="max"/> tokens of the prompt, else the token just sampled.
    /// The first call makes room for the whole prompt (context shift) or throws <see cref="PromptTooLongException"/>.
    /// Throws <see cref="InvalidOperationException"/> when finished or when the last input was not accepted yet.
    /// </summary>
    public ReadOnlyMemory<int> TakeInput(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (IsFinished || _taken > 0)
            throw new InvalidOperationException(IsFinished ? "The generation has finished." : "The last input was not accepted yet.");
        if (_promptDone < _input.Length)
        {
            if (_promptDone == 0)
                _generator.BeginPrompt(_input, _options, _keep, _timings);
            _taken = Math.Min(max, _input.Length - _promptDone);
            return _input.AsMemory(_promptDone, _taken);
        }
        _taken = 1;
        return _sampled;
    }

    /// <summary>
    /// Takes the logits of the last token of the input just evaluated (<paramref name="elapsed"/>: how long that took)
    /// and returns the stream items it produces: none while the prompt goes on, else the sampled token, followed by the
    /// last item when the generation ends. The list stays valid until the next call.
    /// </summary>
    public IReadOnlyList<GeneratedToken> Accept(ReadOnlySpan<float> logits, TimeSpan elapsed)
    {
        if (_taken == 0)
            throw new InvalidOperationException("No input was taken: call TakeInput and evaluate it first.");
        _items.Clear();
        if (_promptDone < _input.Length)
        {
            var count = _taken;
            _generator.Evaluated(_input.AsSpan(_promptDone, count));
            _promptDone += count;
            _taken = 0;
            _timings.Prompt += elapsed;
            _timings.PromptTokens += count;
            if (_promptDone < _input.Length)
                return _items;
        }
        else
        {
            _generator.Evaluated(_sampled);
            _taken = 0;
            _timings.Eval += elapsed;
            _timings.EvalRuns++;
        }
        Sample(logits);
        return _items;
    }

    // After the logits of the whole prompt or of the last sampled token: the next token, and the end if it came.
    private void Sample(ReadOnlySpan<float> logits)
    {
        if (_options.MaxTokens >= 0 && _generated >= _options.MaxTokens)
        {
            Finish(-1, _decoder.Flush(), FinishReason.MaxTokens);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var token = _chain.Sample(logits);
        _chain.Accept(token);
        _timings.Sample += Stopwatch.GetElapsedTime(started);
        var (logProb, top) = Scores(logits, token, _options);
        _timings.Sampled++;
        _generated++;

        // A sampled BOS starts a new document (llama2.c's rule; stories260K separates its stories so), which
        // ends this one just as EOS does. Chat models never sample BOS, so nothing changes for them.
        var tokenizer = _generator.Tokenizer;
        if (tokenizer.IsEndOfGeneration(token) || token == tokenizer.BosId)
        {
            Finish(token, _decoder.Flush(), FinishReason.EndOfGeneration);
            return;
        }

        _generator.Sampled(token);
        _sampled[0] = token;
        var text = _stops.Push(_decoder.Append(token));
        _items.Add(new GeneratedToken(token, text) { LogProb = logProb, TopLogProbs = top });
        if (_stops.Matched)
            Finish(-1, "", FinishReason.StopString);
        else if (_options.MaxTokens >= 0 && _generated >= _options.MaxTokens)
            Finish(-1, _decoder.Flush(), FinishReason.MaxTokens); // without evaluating the token
        else if (!_generator.MakeRoom(1, _options, _keep, _timings))
            Finish(-1, _decoder.Flush(), FinishReason.ContextFull);
    }

    private void Finish(int id, string flushed, FinishReason reason)
    {
        var text = _stops.Matched ? "" : _stops.Push(flushed) + _stops.Flush();
        _items.Add(new GeneratedToken(id, text) { FinishReason = reason, Timings = _timings.Build() });
        IsFinished = true;
    }

    private static (float? LogProb, TokenLogProb[]? Top) Scores(ReadOnlySpan<float> logits, int token, GenerationOptions options)
    {
        if (!options.LogProbs && options.TopLogProbs == 0)
            return (null, null);
        var logSum = LogProbs.LogSumExp(logits);
        return (logits[token] - logSum, options.TopLogProbs > 0 ? LogProbs.Top(logits, logSum, options.TopLogProbs) : null);
    }

    /// <summary>Counts and times gathered while the generation runs.</summary>
    internal sealed class Timings
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
