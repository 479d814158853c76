using System.Text;

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

    /// <summary>Chains <paramref name="samplers"/> in order; the last must be a picker.</summary>
    public SamplerChain(IEnumerable<ISampler> samplers, uint seed = 0)
    {
        _samplers = [.. samplers];
        Seed = seed;
    }

    /// <summary>The samplers in the order they run.</summary>
    public IReadOnlyList<ISampler> Samplers => _samplers;

    /// <summary>The seed the picker uses (the random one chosen when the options gave none).</summary>
    public uint Seed { get; }

    /// <summary>The candidates as the last <see cref="Sample"/> left them (probabilities after the picker).</summary>
    public TokenCandidates Candidates => _candidates;

    /// <summary>
    /// Builds llama.cpp's default chain for <paramref name="options"/> (validated first).
    /// <paramref name="contextSize"/> resolves <c>RepeatLastN = -1</c>.
    /// </summary>
    public static SamplerChain Create(SamplingOptions options, int vocabSize, int contextSize)
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
        return new SamplerChain(samplers, seed);
    }

    /// <summary>Runs the chain over a logits row and returns the picked token id (call <see cref="Accept"/> with it).</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        _candidates.Load(logits);
        foreach (var sampler in _samplers)
            sampler.Apply(_candidates);
        return _candidates.SelectedId;
    }

    /// <summary>Tells every sampler that <paramref name="token"/> joined the sequence.</summary>
    public void Accept(int token)
    {
        foreach (var sampler in _samplers)
            sampler.Accept(token);
    }

    /// <summary>Forgets the accepted tokens and rewinds the random generator to the seed.</summary>
    public void Reset()
    {
        foreach (var sampler in _samplers)
            sampler.Reset();
    }

    /// <summary>The chain as llama.cpp prints it: <c>logits -&gt; penalties -&gt; top-k -&gt; ...</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("logits");
        foreach (var sampler in _samplers)
            text.Append(" -> ").Append(sampler.Name);
        return text.ToString();
    }
}
