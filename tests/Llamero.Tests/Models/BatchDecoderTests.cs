using Llamero.Models;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>
/// Continuous batching: sequences decoded together through one <see cref="LlamaBatchDecoder"/> step give the logits
/// each gives decoded alone, whatever mix of prompt chunks and generated tokens shares a step, at whatever positions,
/// and while sequences join and leave.
/// </summary>
public class BatchDecoderTests
{
    // Bit-identical: batching changes nothing in a row's arithmetic (DotBatch equals Dot row by row, norms, RoPE,
    // SwiGLU and attention run per row), so a sequence's logits do not depend on who shares its step.
    private const double Tolerance = 0;

    private static readonly Lazy<string> GqaModel = new(() =>
        SyntheticLlama.Write(SyntheticModelTests.SynthiaSlice with { Seed = 11 }));

    public static TheoryData<string> Models => new() { "stories260K", "synthetic-gqa" };

    private static LlamaModel Load(string name) =>
        LlamaModel.Load(name == "stories260K" ? TestPaths.Stories260K : GqaModel.Value);

    // Four prompts of different lengths, so the sequences sit at different positions from the first step on.
    private static readonly int[][] Prompts =
    [
        [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298],
        [1, 315, 421],
        [1, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 300, 301, 302, 303, 304],
        [1],
    ];

    [Theory]
    [MemberData(nameof(Models))]
    public void Prompts_then_generation_decoded_together_match_each_sequence_alone(string name)
    {
        using var model = Load(name);
        // Step 0: every prompt at once. Then 12 generated tokens per sequence, one step each.
        var scripts = Prompts.Select((p, s) => Script(p, Enumerable.Range(0, 12).Select(i => Token(s, i)))).ToArray();
        var schedule = scripts.Select(s => Enumerable.Range(0, s.Length).ToArray()).ToArray();
        CompareWithAlone(model, scripts, schedule);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Prompt_chunks_share_steps_with_generated_tokens_and_sequences_join_and_leave(string name)
    {
        using var model = Load(name);
        // Sequence 0 generates from step 0 to 19. Sequence 1 joins at step 3 with a 17-token prompt in chunks of 5, 5, 7,
        // then generates. Sequence 2 runs steps 0..5 and leaves (finished) while the others go on. Sequence 3 joins at
        // step 8, when sequence 2 is gone.
        var scripts = new[]
        {
            Script(Prompts[0], Enumerable.Range(0, 19).Select(i => Token(0, i))),
            Chunks(Prompts[2], 5, 5, 7).Concat(Script([], Enumerable.Range(0, 10).Select(i => Token(1, i)))).ToArray(),
            Script(Prompts[1], Enumerable.Range(0, 5).Select(i => Token(2, i))),
            Script(Prompts[0], Enumerable.Range(0, 8).Select(i => Token(3, i))),
        };
        int[] joins = [0, 3, 0, 8];
        var schedule = scripts.Select((s, i) => Enumerable.Range(joins[i], s.Length).ToArray()).ToArray();
        CompareWithAlone(model, scripts, schedule);
    }

    [Fact]
    public void A_decode_step_allocates_nothing()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        var decoder = model.CreateBatchDecoder(maxTokens: 16, maxSequences: 4);
        var sessions = Enumerable.Range(0, 4).Select(_ => model.CreateSession(64)).ToArray();
        var token = new int[] { 1 }.AsMemory();
        var batch = sessions.Select(s => new SequenceTokens(s, token)).ToList();
        for (var i = 0; i < 8; i++)
            decoder.Decode(batch); // warm up: JIT, pools, buffers
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 16; i++)
            decoder.Decode(batch);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.All(sessions, s => Assert.Equal(24, s.Position));
    }

    [Fact]
    public void A_bad_step_is_refused_before_any_sequence_moves()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        using var other = LlamaModel.Load(TestPaths.Stories260K);
        var decoder = model.CreateBatchDecoder(maxTokens: 8, maxSequences: 3);
        using var a = model.CreateSession(16);
        using var b = model.CreateSession(4);
        using var foreignSession = other.CreateSession(8);
        var two = new int[] { 1, 2 }.AsMemory();

        var same = Assert.Throws<ArgumentException>(() => decoder.Decode([new(a, two), new(a, two)]));
        Assert.Contains("same sequence", same.Message);
        var foreign = Assert.Throws<ArgumentException>(() => decoder.Decode([new(a, two), new(foreignSession, two)]));
        Assert.Contains("not a session of this decoder's model", foreign.Message);
        var tooMany = Assert.Throws<ArgumentException>(() => decoder.Decode([new(a, two), new(b, new int[7])]));
        Assert.Contains("more than 8 tokens", tooMany.Message);
        var overflow = Assert.Throws<InvalidOperationException>(() => decoder.Decode([new(a, two), new(b, new int[5])]));
        Assert.Contains("5 tokens do not fit", overflow.Message);
        Assert.Throws<ArgumentException>(() => decoder.Decode([new(a, ReadOnlyMemory<int>.Empty)]));
        Assert.Throws<ArgumentException>(() => decoder.Decode([]));
        Assert.Equal(0, a.Position);
        Assert.Equal(0, b.Position);

        // The decoder is still usable after refusals.
        Assert.Equal(2 * 512, decoder.Decode([new(a, two), new(b, two)]).Length);
        Assert.Equal(2, a.Position);
    }

    // Feeds each sequence's chunks alone, then all together on the schedule (schedule[s][c]: the step at which
    // sequence s evaluates its chunk c), and compares the last-token logits of every chunk.
    private static void CompareWithAlone(LlamaModel model, int[][][] scripts, int[][] schedule)
    {
        var vocab = model.Config.VocabSize;
        var alone = scripts.Select(chunks =>
        {
            using var session = model.CreateSession(64);
            return chunks.Select(chunk => session.Evaluate(chunk).ToArray()).ToArray();
        }).ToArray();

        var maxTokens = scripts.Sum(s => s.Max(c => c.Length));
        var decoder = model.CreateBatchDecoder(maxTokens, scripts.Length);
        var sessions = scripts.Select(_ => model.CreateSession(64)).ToArray();
        var steps = schedule.Max(s => s[^1]) + 1;
        var batch = new List<SequenceTokens>();
        var members = new List<(int Sequence, int Chunk)>();
        var worst = 0.0;
        for (var step = 0; step < steps; step++)
        {
            batch.Clear();
            members.Clear();
            for (var s = 0; s < scripts.Length; s++)
            {
                var c = Array.IndexOf(schedule[s], step);
                if (c < 0)
                    continue;
                batch.Add(new SequenceTokens(sessions[s], scripts[s][c]));
                members.Add((s, c));
            }
            if (batch.Count == 0)
                continue;
            var logits = decoder.Decode(batch);
            Assert.Equal(batch.Count * vocab, logits.Length);
            for (var i = 0; i < members.Count; i++)
            {
                var (s, c) = members[i];
                var diff = ModelAssert.MaxAbsDiff(alone[s][c], logits.Slice(i * vocab, vocab));
                worst = Math.Max(worst, diff);
                Assert.True(diff <= Tolerance, $"step {step}, sequence {s}, chunk {c}: max |diff| {diff:G3}");
            }
        }
        for (var s = 0; s < scripts.Length; s++)
            Assert.Equal(scripts[s].Sum(c => c.Length), sessions[s].Position);
    }

    // A prompt as one chunk, then one chunk per generated token.
    private static int[][] Script(int[] prompt, IEnumerable<int> generated) =>
        (prompt.Length > 0 ? new[] { prompt } : []).Concat(generated.Select(t => new[] { t })).ToArray();

    private static int[][] Chunks(int[] prompt, params int[] sizes)
    {
        var start = 0;
        return sizes.Select(n => prompt[start..(start += n)]).ToArray();
    }

    // Stand-ins for generated tokens: ordinary vocabulary pieces that differ per sequence.
    private static int Token(int sequence, int index) => 259 + (sequence * 37 + index * 13) % 250;
}
