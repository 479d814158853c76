using Llamero.Sampling;

namespace Llamero.Tests.Sampling;

/// <summary>
/// Llamero's chain against llama.cpp's own samplers (libllama.so), fed the same logits and the same accepted
/// tokens: the picked token must be identical at every step, which checks each sampler's meaning, the chain
/// order, and that the seeded draw consumes mt19937 exactly as llama.cpp does.
/// </summary>
public class SamplerOracleTests
{
    private const int Vocab = 512;

    private static float[] Logits(Random random, int vocab)
    {
        // A peaked, model-like distribution: a few strong tokens over a noisy floor. With a large vocabulary the
        // floor holds tied logits, whose order no two sorts agree on, so the peaks rise higher there and the
        // tokens top-p keeps are all distinct.
        var logits = new float[vocab];
        for (var i = 0; i < vocab; i++)
            logits[i] = (float)(random.NextDouble() * 6 - 3);
        for (var i = 0; i < 8; i++)
            logits[random.Next(vocab)] += (float)(random.NextDouble() * 6 + (vocab > Vocab ? 12 : 0));
        return logits;
    }

    private static void AssertSameTokens(SamplingOptions options, Func<NativeSamplerChain, NativeSamplerChain> build, int steps = 300, int vocab = Vocab)
    {
        var ours = SamplerChain.Create(options, vocab, 4096);
        using var native = build(new NativeSamplerChain());
        var random = new Random(11);
        for (var step = 0; step < steps; step++)
        {
            var logits = Logits(random, vocab);
            var expected = native.Sample(logits);
            var actual = ours.Sample(logits);
            Assert.True(expected == actual, $"step {step}: llama.cpp picked {expected}, Llamero {actual}");
            native.Accept(expected);
            ours.Accept(actual);
        }
    }

    [Theory]
    [InlineData(0.8f, 40, 0.95f, 0.05f, 1f, 1f, 0u)]
    [InlineData(1.0f, 0, 1f, 0f, 1f, 1f, 1u)]
    [InlineData(1.3f, 100, 0.9f, 0.02f, 0.9f, 1.1f, 42u)]
    [InlineData(0.7f, 20, 0.8f, 0.1f, 1f, 1.3f, 1234567u)]
    [InlineData(0f, 40, 0.95f, 0.05f, 1f, 1.1f, 5u)]
    public void Default_chain_picks_what_llama_cpp_picks(float temp, int topK, float topP, float minP, float typical, float repeat, uint seed)
    {
        var options = new SamplingOptions
        {
            Temperature = temp, TopK = topK, TopP = topP, MinP = minP, TypicalP = typical,
            RepeatPenalty = repeat, RepeatLastN = 64, FrequencyPenalty = 0.1f, PresencePenalty = 0.2f, Seed = seed,
        };
        AssertSameTokens(options, n => n.Penalties(64, repeat, 0.1f, 0.2f).TopK(topK).Typical(typical).TopP(topP).MinP(minP).Temperature(temp).Dist(seed));
    }

    [Fact]
    public void Top_p_over_a_large_unsorted_vocabulary_matches()
    {
        // top-k off with 32,000 candidates: top-p sorts only the most likely ones.
        var options = new SamplingOptions { Seed = 3, TopK = 0, TopP = 0.9f, MinP = 0, Temperature = 1f };
        AssertSameTokens(options, n => n.Penalties(64, 1f, 0f, 0f).TopK(0).Typical(1f).TopP(0.9f).MinP(0f).Temperature(1f).Dist(3), steps: 100, vocab: 32000);
    }

    [Fact]
    public void Logit_bias_then_default_chain_matches()
    {
        var bias = new Dictionary<int, float> { [3] = 5f, [7] = float.NegativeInfinity, [100] = -2f };
        var options = new SamplingOptions { Seed = 9, LogitBias = bias };
        NativeSamplerChain.LogitBias[] native = [.. bias.Select(b => new NativeSamplerChain.LogitBias { Token = b.Key, Bias = b.Value })];
        AssertSameTokens(options, n => n.LogitBiases(Vocab, native).Penalties(64, 1f, 0f, 0f).TopK(40).Typical(1f).TopP(0.95f).MinP(0.05f).Temperature(0.8f).Dist(9));
    }

    [Fact]
    public void Mirostat_v2_matches()
    {
        var options = new SamplingOptions { Mirostat = 2, MirostatTau = 4f, MirostatEta = 0.2f, Temperature = 0.9f, Seed = 77 };
        AssertSameTokens(options, n => n.Temperature(0.9f).MirostatV2(77, 4f, 0.2f));
    }
}
