using Llamero.Sampling;

namespace Llamero.Tests.Sampling;

/// <summary>Each sampler on small hand-built distributions, with the numbers worked out by hand.</summary>
public class SamplerTests
{
    private static TokenCandidates FromLogits(params float[] logits)
    {
        var candidates = new TokenCandidates();
        candidates.Load(logits);
        return candidates;
    }

    private static TokenCandidates FromProbabilities(params double[] probabilities) =>
        FromLogits([.. probabilities.Select(p => (float)Math.Log(p))]);

    private static int[] Ids(TokenCandidates c) => [.. c.Items.ToArray().Select(t => t.Id)];

    [Fact]
    public void Penalties_divide_positive_multiply_negative_then_subtract_frequency_and_presence()
    {
        var sampler = new PenaltiesSampler(lastN: 64, repeat: 2f, frequency: 0.5f, presence: 0.25f);
        foreach (var token in new[] { 0, 0, 1 })
            sampler.Accept(token);
        var c = FromLogits(2f, -2f, 1f, 0.5f);
        sampler.Apply(c);
        var logits = c.Items.ToArray().Select(t => t.Logit).ToArray();
        Assert.Equal(2f / 2f - (2 * 0.5f + 0.25f), logits[0], 6);
        Assert.Equal(-2f * 2f - (1 * 0.5f + 0.25f), logits[1], 6);
        Assert.Equal(1f, logits[2]);
        Assert.Equal(0.5f, logits[3]);
        Assert.False(c.Sorted);
    }

    [Fact]
    public void Penalties_only_see_the_last_n_tokens()
    {
        var sampler = new PenaltiesSampler(lastN: 2, repeat: 2f, frequency: 0f, presence: 0f);
        foreach (var token in new[] { 0, 1, 2 })
            sampler.Accept(token);
        var c = FromLogits(4f, 4f, 4f);
        sampler.Apply(c);
        Assert.Equal([4f, 2f, 2f], c.Items.ToArray().Select(t => t.Logit));

        sampler.Reset();
        var fresh = FromLogits(4f, 4f, 4f);
        sampler.Apply(fresh);
        Assert.Equal([4f, 4f, 4f], fresh.Items.ToArray().Select(t => t.Logit));
    }

    [Fact]
    public void Top_k_keeps_the_k_highest_sorted_and_zero_disables_it()
    {
        var c = FromLogits(0.1f, 3f, -1f, 2f, 1f);
        new TopKSampler(3).Apply(c);
        Assert.Equal([1, 3, 4], Ids(c));
        Assert.True(c.Sorted);

        var untouched = FromLogits(0.1f, 3f, -1f);
        new TopKSampler(0).Apply(untouched);
        Assert.Equal([0, 1, 2], Ids(untouched));
        Assert.False(untouched.Sorted);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(40)]
    [InlineData(499)]
    public void Top_k_partial_selection_equals_a_full_sort(int k)
    {
        var random = new Random(k);
        // Few distinct values: many ties, the hard case for a partition.
        var logits = Enumerable.Range(0, 1000).Select(_ => (float)random.Next(50)).ToArray();
        var c = FromLogits(logits);
        new TopKSampler(k).Apply(c);
        var expected = logits.OrderByDescending(l => l).Take(k).ToArray();
        Assert.Equal(expected, c.Items.ToArray().Select(t => t.Logit));
        Assert.True(c.Sorted);
        Assert.All(c.Items.ToArray(), t => Assert.Equal(logits[t.Id], t.Logit));
    }

    [Fact]
    public void Top_p_keeps_the_smallest_prefix_reaching_p_including_the_crossing_token()
    {
        var c = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        new TopPSampler(0.75f).Apply(c);
        Assert.Equal([1, 3], Ids(c)); // 0.5 < 0.75 <= 0.5 + 0.3

        var wider = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        new TopPSampler(0.85f).Apply(wider);
        Assert.Equal([1, 3, 0], Ids(wider));

        var all = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        new TopPSampler(1f).Apply(all);
        Assert.Equal(4, all.Count);
    }

    [Fact]
    public void Min_p_keeps_tokens_at_least_p_times_the_best_and_keeps_their_order()
    {
        var c = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        new MinPSampler(0.2f).Apply(c); // threshold 0.1: drops only 0.05
        Assert.Equal([0, 1, 3], Ids(c));
        Assert.False(c.Sorted);

        var sorted = FromProbabilities(0.15, 0.5, 0.05, 0.3);
        sorted.SortDescending();
        new MinPSampler(0.5f).Apply(sorted); // threshold 0.25
        Assert.Equal([1, 3], Ids(sorted));
    }

    [Fact]
    public void Typical_p_prefers_tokens_whose_surprise_is_near_the_entropy()
    {
        // p = 0.4, 0.3, 0.2, 0.1: entropy 1.2799 nats; |-ln p - H| = 0.364, 0.076, 0.329, 1.023.
        // Most typical first: 0.3, then 0.2 (sum 0.5 > 0.45) -> the most probable token is dropped.
        var c = FromProbabilities(0.4, 0.3, 0.2, 0.1);
        new TypicalSampler(0.45f).Apply(c);
        Assert.Equal([1, 2], Ids(c));
        Assert.False(c.Sorted);
    }

    [Fact]
    public void Temperature_divides_logits_and_zero_leaves_only_the_first_maximum()
    {
        var c = FromLogits(1f, 4f, -2f);
        new TemperatureSampler(0.5f).Apply(c);
        Assert.Equal([2f, 8f, -4f], c.Items.ToArray().Select(t => t.Logit));

        var greedy = FromLogits(1f, 4f, 4f, -2f);
        new TemperatureSampler(0f).Apply(greedy);
        var logits = greedy.Items.ToArray().Select(t => t.Logit).ToArray();
        Assert.Equal(4f, logits[1]);
        Assert.All(new[] { logits[0], logits[2], logits[3] }, l => Assert.Equal(float.NegativeInfinity, l));
    }

    [Fact]
    public void Dist_draws_in_proportion_to_probabilities_and_repeats_with_the_seed()
    {
        var sampler = new DistSampler(seed: 1234);
        var counts = new int[3];
        var first = new List<int>();
        for (var i = 0; i < 20000; i++)
        {
            var c = FromProbabilities(0.7, 0.2, 0.1);
            sampler.Apply(c);
            counts[c.SelectedId]++;
            if (i < 50)
                first.Add(c.SelectedId);
        }
        Assert.InRange(counts[0] / 20000.0, 0.68, 0.72);
        Assert.InRange(counts[1] / 20000.0, 0.185, 0.215);
        Assert.InRange(counts[2] / 20000.0, 0.09, 0.11);

        sampler.Reset();
        var again = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            var c = FromProbabilities(0.7, 0.2, 0.1);
            sampler.Apply(c);
            again.Add(c.SelectedId);
        }
        Assert.Equal(first, again);
        Assert.Contains(1, first);
    }

    [Fact]
    public void Dist_leaves_normalised_probabilities()
    {
        var c = FromLogits(0f, MathF.Log(3f));
        new DistSampler(7).Apply(c);
        Assert.Equal(0.25f, c.Items[0].P, 6);
        Assert.Equal(0.75f, c.Items[1].P, 6);
    }

    [Fact]
    public void Greedy_picks_the_highest_logit()
    {
        var c = FromLogits(0.5f, 2.5f, 2f);
        new GreedySampler().Apply(c);
        Assert.Equal(1, c.SelectedId);
    }

    [Fact]
    public void Mirostat_v2_truncates_by_surprise_and_moves_mu_toward_tau()
    {
        // tau 0.5: mu starts at 1 bit, so only tokens with -log2 p <= 1 (p >= 0.5) survive: just the 0.6 one.
        var sampler = new MirostatV2Sampler(seed: 3, tau: 0.5f, eta: 0.1f);
        var c = FromProbabilities(0.6, 0.3, 0.1);
        sampler.Apply(c);
        Assert.Equal(0, c.SelectedId);
        Assert.Equal(1, c.Count);
        // The single survivor has p = 1, surprise 0: mu = 1 - 0.1 * (0 - 0.5) = 1.05.
        Assert.Equal(1.05f, sampler.Mu, 5);
        sampler.Reset();
        Assert.Equal(1f, sampler.Mu);
    }

    [Fact]
    public void Logit_bias_adds_to_named_tokens_and_rejects_unknown_ids()
    {
        var sampler = new LogitBiasSampler(new Dictionary<int, float> { [1] = float.NegativeInfinity, [2] = 0.5f }, vocabSize: 3);
        var c = FromLogits(1f, 5f, 1f);
        sampler.Apply(c);
        new GreedySampler().Apply(c);
        Assert.Equal(2, c.SelectedId);

        var error = Assert.Throws<ArgumentException>(() => new LogitBiasSampler(new Dictionary<int, float> { [7] = 1f }, vocabSize: 3));
        Assert.Contains("token 7", error.Message);
    }

    [Fact]
    public void Mersenne_twister_matches_the_cpp_standard()
    {
        // [rand.predef]: the 10000th output of a default-constructed std::mt19937 (seed 5489) is 4123659995.
        var rng = new Mt19937(5489);
        Assert.Equal(3499211612u, rng.NextUInt32());
        for (var i = 2; i < 10000; i++)
            rng.NextUInt32();
        Assert.Equal(4123659995u, rng.NextUInt32());
    }
}
