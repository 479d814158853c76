using Llamero.Sampling;

namespace Llamero.Tests.Sampling;

/// <summary>The assembled chain: llama.cpp's order, determinism by seed, greedy at temperature 0, validation.</summary>
public class SamplerChainTests
{
    private static float[] RandomLogits(int seed, int count)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 8 - 4))];
    }

    [Fact]
    public void Default_chain_runs_in_llama_cpp_order()
    {
        var chain = SamplerChain.Create(new SamplingOptions { Seed = 1 }, vocabSize: 10, contextSize: 64);
        Assert.Equal("logits -> penalties -> top-k -> typical -> top-p -> min-p -> temp -> dist", chain.ToString());

        var biased = SamplerChain.Create(new SamplingOptions { Mirostat = 2, LogitBias = new Dictionary<int, float> { [1] = 1f } }, 10, 64);
        Assert.Equal("logits -> logit-bias -> temp -> mirostat-v2", biased.ToString());
    }

    [Fact]
    public void Same_seed_gives_the_same_tokens_and_another_seed_differs()
    {
        int[] Run(uint seed)
        {
            var chain = SamplerChain.Create(new SamplingOptions { Seed = seed, Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0 }, 64, 256);
            return [.. Enumerable.Range(0, 40).Select(i =>
            {
                var token = chain.Sample(RandomLogits(i, 64));
                chain.Accept(token);
                return token;
            })];
        }
        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
    }

    [Fact]
    public void Temperature_zero_is_greedy_whatever_the_seed()
    {
        for (uint seed = 0; seed < 5; seed++)
        {
            var chain = SamplerChain.Create(new SamplingOptions { Seed = seed, Temperature = 0 }, 100, 256);
            for (var i = 0; i < 10; i++)
            {
                var logits = RandomLogits(i, 100);
                var argmax = Array.IndexOf(logits, logits.Max());
                Assert.Equal(argmax, chain.Sample(logits));
            }
        }
    }

    [Fact]
    public void Repeat_penalty_steers_greedy_decoding_away_from_accepted_tokens()
    {
        var chain = SamplerChain.Create(new SamplingOptions { Temperature = 0, RepeatPenalty = 2f }, 3, 64);
        float[] logits = [3f, 2f, 0f];
        Assert.Equal(0, chain.Sample(logits));
        chain.Accept(0);
        Assert.Equal(1, chain.Sample(logits)); // 3 / 2 = 1.5 < 2
    }

    [Fact]
    public void Unset_seed_is_random_and_reported()
    {
        var a = SamplerChain.Create(new SamplingOptions(), 10, 64);
        var b = SamplerChain.Create(new SamplingOptions(), 10, 64);
        Assert.NotEqual(a.Seed, b.Seed);
        Assert.Equal(7u, SamplerChain.Create(new SamplingOptions { Seed = 7 }, 10, 64).Seed);
    }

    [Theory]
    [InlineData(-0.5f, 0.95f, "temperature")]
    [InlineData(0.8f, 1.5f, "top-p")]
    [InlineData(0.8f, 0f, "top-p")]
    [InlineData(float.NaN, 0.9f, "temperature")]
    public void Out_of_range_options_throw_naming_the_option(float temperature, float topP, string name)
    {
        var options = new SamplingOptions { Temperature = temperature, TopP = topP };
        var error = Assert.Throws<ArgumentException>(() => SamplerChain.Create(options, 10, 64));
        Assert.StartsWith(name, error.Message);
    }

    [Fact]
    public void Other_invalid_options_throw()
    {
        Assert.Throws<ArgumentException>(() => new SamplingOptions { TopK = -1 }.Validate());
        Assert.Throws<ArgumentException>(() => new SamplingOptions { MinP = 2 }.Validate());
        Assert.Throws<ArgumentException>(() => new SamplingOptions { TypicalP = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new SamplingOptions { RepeatPenalty = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new SamplingOptions { RepeatLastN = -2 }.Validate());
        Assert.Contains("Mirostat 2.0", Assert.Throws<ArgumentException>(() => new SamplingOptions { Mirostat = 1 }.Validate()).Message);
        Assert.Throws<ArgumentException>(() => new SamplingOptions { LogitBias = new Dictionary<int, float> { [0] = float.NaN } }.Validate());
    }
}
