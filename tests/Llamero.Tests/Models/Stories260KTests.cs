using Llamero.Models;
using Llamero.Tests.Oracle;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>The real trained stories260K model against its golden file (float64 reference) and llama.cpp.</summary>
public class Stories260KTests
{
    private static readonly StoriesGolden Golden = StoriesGolden.Instance;

    [Fact]
    public void Logits_at_positions_0_to_2_match_the_golden_file()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        Assert.Equal(512, model.Config.VocabSize);
        var inputs = Golden.Logits.Select(l => l.InputId).ToArray();

        // As one prompt batch (matrix-matrix path) ...
        using var batched = model.CreateSession(512, KvCacheOptions.F32);
        var all = new float[inputs.Length * 512];
        batched.EvaluateAll(inputs, all);
        // ... and one token at a time (generation path).
        using var single = model.CreateSession(512, KvCacheOptions.F32);
        for (var p = 0; p < inputs.Length; p++)
        {
            var expected = Golden.Logits[p].Logits;
            ModelAssert.Close(expected, all.AsSpan(p * 512, 512), 1e-4, $"batched position {p}");
            ModelAssert.Close(expected, single.Evaluate([inputs[p]]), 1e-4, $"single position {p}");
        }
        Assert.Equal(3, batched.Position);
    }

    [Fact]
    public void Greedy_continuation_from_BOS_is_the_golden_256_tokens()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var session = model.CreateSession(512);
        Assert.Equal(Golden.GeneratedIds, ModelAssert.Greedy(session, Golden.InputIds, Golden.GeneratedIds.Length));
    }

    [Fact]
    public void A_long_prompt_in_several_batches_matches_llama_cpp_at_every_position()
    {
        // 600 tokens: more than one 512-token batch, so the second batch attends to the first one's cache.
        var tokens = new[] { 1 }.Concat(Golden.GeneratedIds).Concat(Golden.GeneratedIds).Concat(Golden.GeneratedIds).Take(600).ToArray();
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var session = model.CreateSession(1024, KvCacheOptions.F32);
        var ours = new float[tokens.Length * 512];
        session.EvaluateAll(tokens, ours);

        using var oracle = LlamaCppModel.Load(TestPaths.Stories260K, contextSize: 1024);
        var theirs = oracle.Evaluate(tokens, allLogits: true);
        for (var p = 0; p < tokens.Length; p++)
            ModelAssert.Close(theirs[p], ours.AsSpan(p * 512, 512), 1e-4, $"position {p}");
    }

    [Fact]
    public void Truncate_then_reevaluate_gives_the_same_logits()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var session = model.CreateSession(64);
        var prompt = Golden.GeneratedIds.Take(20).Prepend(1).ToArray();
        var first = session.Evaluate(prompt).ToArray();
        session.Truncate(10);
        Assert.Equal(10, session.Position);
        var again = session.Evaluate(prompt.AsSpan(10)).ToArray();
        ModelAssert.Close(first, again, 1e-5, "after truncate");
        session.Truncate(0);
        ModelAssert.Close(first, session.Evaluate(prompt), 1e-5, "after clearing");
    }

    [Fact]
    public void Context_shift_matches_llama_cpp()
    {
        // Fill 48 tokens, keep 4, discard 22, continue with 8 more tokens: llama.cpp does the same with seq_rm + seq_add.
        var tokens = Golden.GeneratedIds.Take(56).Prepend(1).ToArray();
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var session = model.CreateSession(64, KvCacheOptions.F32);
        using var oracle = LlamaCppModel.Load(TestPaths.Stories260K, contextSize: 64);
        session.Evaluate(tokens.AsSpan(0, 48));
        oracle.Evaluate(tokens[..48]);
        session.Shift(4, 22);
        oracle.Shift(4, 22);
        Assert.Equal(26, session.Position);
        var ours = session.Evaluate(tokens.AsSpan(48, 8)).ToArray();
        var theirs = oracle.Evaluate(tokens[48..56])[0];
        ModelAssert.Close(theirs, ours, 1e-4, "after shift");
    }

    [Fact]
    public void Evaluating_a_token_allocates_nothing()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var session = model.CreateSession(128);
        var token = new[] { 1 };
        for (var i = 0; i < 8; i++)
            session.Evaluate(token); // warm up: JIT, pools, buffers, attention scratch
        long allocated;
        var attempts = 0;
        bool interrupted;
        do
        {
            // A test elsewhere that changes the thread count meanwhile starts a new worker pool, which says nothing
            // about the forward pass (see ForwardAllocationTests): measure again then.
            var changes = Llamero.Kernels.MatMul.ThreadChanges;
            session.Truncate(8);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 16; i++)
                session.Evaluate(token);
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            interrupted = Llamero.Kernels.MatMul.ThreadChanges != changes;
        }
        while (interrupted && ++attempts < 10);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void A_prompt_longer_than_the_context_names_the_counts()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var session = model.CreateSession(16);
        session.Evaluate([1, 2, 3, 4, 5, 6]);
        var ex = Assert.Throws<InvalidOperationException>(() => session.Evaluate(new int[11]));
        Assert.Contains("11 tokens", ex.Message);
        Assert.Contains("6 of 16", ex.Message);
        Assert.Equal(6, session.Position); // nothing was evaluated
        Assert.Throws<ArgumentOutOfRangeException>(() => session.Evaluate([512]));
    }
}
