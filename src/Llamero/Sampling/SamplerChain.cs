using System.Text;
using Llamero.Tokenization;

namespace Llamero.Sampling;

/// <summary>
/// An ordered list of samplers ending in a picker (llama.cpp's sampler chain). <see cref="Create"/> builds
/// llama.cpp's common chain: logit-bias → penalties → top-k → typical → top-p → min-p → temp → dist,
/// or logit-bias → temp → mirostat-v2.
/// </summary>
public sealed class SamplerChain
{
    private readonly ISampler[] _samplers;
    private readonly TokenCandidates _candidates = new();
    private readonly GrammarSampler? _grammar;
    private readonly bool _grammarFirst;

    /// <summary>Chains <paramref name="samplers"/> in order; the last must be a picker.</summary>
    public SamplerChain(IEnumerable<ISampler> samplers, uint seed = 0)
    {
        _samplers = [.. samplers];
        Seed = seed;
    }

    /// <summary>
    /// Chains <paramref name="samplers"/> under <paramref name="grammar"/>: each pick is made without the grammar
    /// first and kept when the grammar allows it; otherwise the logits are reloaded, masked by the grammar, and the
    /// chain runs again (llama.cpp's <c>common_sampler_sample</c>). With <paramref name="grammarFirst"/> the mask is
    /// always applied first (needed by samplers that learn inside <see cref="ISampler.Apply"/>, like mirostat).
    /// </summary>
    public SamplerChain(IEnumerable<ISampler> samplers, GrammarSampler? grammar, uint seed = 0, bool grammarFirst = false)
        : this(samplers, seed)
    {
        _grammar = grammar;
        _grammarFirst = grammarFirst;
    }

    /// <summary>The grammar constraint, or null.</summary>
    public GrammarSampler? Grammar => _grammar;

    /// <summary>The samplers in the order they run.</summary>
    public IReadOnlyList<ISampler> Samplers => _samplers;

    /// <summary>The seed the picker uses (the random one chosen when the options gave none).</summary>
    public uint Seed { get; }

    /// <summary>The candidates as the last <see cref="Sample"/> left them (probabilities after the picker).</summary>
    public TokenCandidates Candidates => _candidates;

    /// <summary>
    /// Builds llama.cpp's default chain for <paramref name="options"/> (validated first).
    /// <paramref name="contextSize"/> resolves <c>RepeatLastN = -1</c>. A grammar in the options needs the
    /// <paramref name="tokenizer"/> whose token texts it judges.
    /// </summary>
    public static SamplerChain Create(SamplingOptions options, int vocabSize, int contextSize, Tokenizer? tokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var seed = options.Seed ?? (uint)Random.Shared.NextInt64(0, uint.MaxValue);
        var samplers = new List<ISampler>();
        if (options.LogitBias is { Count: > 0 } bias)
            samplers.Add(new LogitBiasSampler(bias, vocabSize));
        if (options.Mirostat == 2)
        {
            samplers.Add(new TemperatureSampler(options.Temperature));
            samplers.Add(new MirostatV2Sampler(seed, options.MirostatTau, options.MirostatEta));
        }
        else
        {
            var lastN = options.RepeatLastN < 0 ? contextSize : options.RepeatLastN;
            samplers.Add(new PenaltiesSampler(lastN, options.RepeatPenalty, options.FrequencyPenalty, options.PresencePenalty));
            samplers.Add(new TopKSampler(options.TopK));
            samplers.Add(new TypicalSampler(options.TypicalP));
            samplers.Add(new TopPSampler(options.TopP));
            samplers.Add(new MinPSampler(options.MinP));
            samplers.Add(new TemperatureSampler(options.Temperature));
            samplers.Add(new DistSampler(seed));
        }
        if (options.Grammar is null)
            return new SamplerChain(samplers, seed);
        if (tokenizer is null)
            throw new ArgumentException("a grammar needs the tokenizer whose tokens it constrains", nameof(tokenizer));
        if (tokenizer.VocabSize != vocabSize)
            throw new ArgumentException($"the tokenizer has {tokenizer.VocabSize} tokens but the logits have {vocabSize}", nameof(tokenizer));
        return new SamplerChain(samplers, new GrammarSampler(options.Grammar, tokenizer), seed, grammarFirst: options.Mirostat != 0);
    }

    /// <summary>Runs the chain over a logits row and returns the picked token id (call <see cref="Accept"/> with it).</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        _candidates.Load(logits);
        if (_grammar is not null && _grammarFirst)
            _grammar.Apply(_candidates);
        RunSamplers();
        if (_grammar is null || _grammarFirst || _grammar.IsAllowed(_candidates.SelectedId))
            return _candidates.SelectedId;
        _candidates.Load(logits);
        _grammar.Apply(_candidates);
        RunSamplers();
        return _candidates.SelectedId;
    }

    private void RunSamplers()
    {
        foreach (var sampler in _samplers)
            sampler.Apply(_candidates);
    }

    /// <summary>Tells every sampler (and the grammar) that <paramref name="token"/> joined the sequence.</summary>
    public void Accept(int token)
    {
        _grammar?.Accept(token);
        foreach (var sampler in _samplers)
            sampler.Accept(token);
    }

    /// <summary>Forgets the accepted tokens and rewinds the random generator to the seed.</summary>
    public void Reset()
    {
        _grammar?.Reset();
        foreach (var sampler in _samplers)
            sampler.Reset();
    }

    /// <summary>The chain as llama.cpp prints it: <c>logits -&gt; penalties -&gt; top-k -&gt; ...</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(_grammar is null ? "logits" : "logits -> grammar");
        foreach (var sampler in _samplers)
            text.Append(" -> ").Append(sampler.Name);
        return text.ToString();
    }
}
