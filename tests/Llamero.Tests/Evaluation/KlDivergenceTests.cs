using Llamero.Evaluation;
using Llamero.Tests.Support;

namespace Llamero.Tests.Evaluation;

/// <summary>llama.cpp's logits file and the KL-divergence statistics computed from it.</summary>
public class KlDivergenceTests
{
    private static float[] RandomLogits(Random rng, int vocab, float spread) =>
        Enumerable.Range(0, vocab).Select(_ => (float)(rng.NextDouble() * 2 - 1) * spread).ToArray();

    private static double[] LogSoftmax(float[] logits)
    {
        var max = logits.Max();
        var logSum = Math.Log(logits.Sum(l => Math.Exp(l - max)));
        return logits.Select(l => l - max - logSum).ToArray();
    }

    [Fact]
    public void A_compressed_row_keeps_every_log_probability_within_half_a_step()
    {
        var rng = new Random(3);
        var logits = RandomLogits(rng, 513, 12);   // odd vocabulary: one padding value
        var row = new ushort[LogitsFile.RowValues(513)];
        Assert.Equal(2 * 257 + 4, row.Length);
        LogitsFile.Compress(logits, row);
        var exact = LogSoftmax(logits);
        var scale = LogitsFile.Scale(row);
        var min = LogitsFile.MinLogProb(row);
        for (var i = 0; i < logits.Length; i++)
        {
            if (exact[i] < min)
                continue;   // below the 16-nat floor: stored as the floor
            Assert.Equal(exact[i], scale * row[4 + i] + min, scale * 0.51 + 1e-5);
        }
    }

    [Fact]
    public void Kl_statistics_match_an_exact_computation_on_hand_built_distributions()
    {
        var rng = new Random(5);
        const int vocab = 64;
        var stats = new KlDivergenceStats();
        double exactKld = 0, exactNll = 0, exactNllBase = 0;
        var sameTop = 0;
        var row = new ushort[LogitsFile.RowValues(vocab)];
        const int positions = 200;
        for (var t = 0; t < positions; t++)
        {
            var baseLogits = RandomLogits(rng, vocab, 3);
            var logits = baseLogits.Select(l => l + (float)(rng.NextDouble() * 0.6 - 0.3)).ToArray();
            var token = rng.Next(vocab);
            LogitsFile.Compress(baseLogits, row);
            KlDivergence.Accumulate(logits, row, token, stats);
            var p = LogSoftmax(baseLogits);
            var q = LogSoftmax(logits);
            exactKld += p.Select((lp, i) => Math.Exp(lp) * (lp - q[i])).Sum();
            exactNll -= q[token];
            exactNllBase -= p[token];
            if (Array.IndexOf(logits, logits.Max()) == Array.IndexOf(baseLogits, baseLogits.Max()))
                sameTop++;
        }
        Assert.Equal(positions, stats.Count);
        Assert.Equal(exactKld / positions, stats.Kld.Mean, 1e-4);
        Assert.True(stats.Kld.Error > 0);
        Assert.Equal(exactNll / positions, stats.LogPpl.Mean, 1e-5);
        Assert.Equal(exactNllBase / positions, stats.LogPplBase.Mean, 1e-4);
        Assert.Equal(sameTop, stats.SameTop);
        var summary = KlDivergenceReport.Summary(stats).ToList();
        Assert.Contains(summary, l => l.StartsWith("Mean    KLD: ", StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("Same top p: ", StringComparison.Ordinal));
        Assert.Contains(summary, l => l.StartsWith("Mean PPL(Q)/PPL(base)         : ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_model_compared_with_its_own_saved_logits_diverges_by_nothing()
    {
        var dir = TestPaths.NewTempDir("llamero-kld");
        var path = Path.Combine(dir, "base.kld");
        var tokens = OracleSession.Tokenize(TestPaths.Stories260K, StoryText.Generate(120));
        const int context = 64;
        using var session = OracleSession.Load(TestPaths.Stories260K, context);
        PerplexityResult ppl;
        using (var writer = new LogitsFileWriter(path))
        {
            ppl = Perplexity.Compute(session, tokens, tokens[0], new PerplexityOptions(context), saveLogits: writer);
            writer.Commit();
        }
        var chunks = tokens.Length / context;
        Assert.Equal(20 + 4L * context * chunks + 2L * LogitsFile.RowValues(512) * LogitsFile.RowsPerChunk(context) * chunks, new FileInfo(path).Length);
        Assert.False(File.Exists(path + ".partial"));

        using var reader = new LogitsFileReader(path);
        Assert.Equal((context, 512, chunks), (reader.ContextSize, reader.VocabSize, reader.Chunks));
        Assert.Equal(tokens.Take(context * chunks), reader.Tokens);
        var lines = new List<string>();
        var stats = KlDivergence.Compute(session, reader, tokens[0], 512, (c, s) => lines.Add(KlDivergenceReport.ChunkLine(c, s)));
        Assert.Equal(chunks, lines.Count);
        Assert.Equal(1.0, (double)stats.SameTop / stats.Count);
        Assert.True(stats.Kld.Mean < 1e-4, $"KLD {stats.Kld.Mean}");
        Assert.Equal(ppl.Value, Math.Exp(stats.LogPpl.Mean), ppl.Value * 1e-5);
        Assert.Equal(0, stats.LogPplRatio.Mean, 1e-3);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void A_file_that_is_not_a_logits_file_or_is_truncated_is_refused()
    {
        var dir = TestPaths.NewTempDir("llamero-kld");
        var bogus = Path.Combine(dir, "bogus.kld");
        File.WriteAllText(bogus, "this is not a logits file at all");
        Assert.Contains("does not look like a file of log-probabilities", Assert.Throws<EvaluationException>(() => new LogitsFileReader(bogus)).Message);
        var truncated = Path.Combine(dir, "short.kld");
        using (var writer = new BinaryWriter(File.Create(truncated)))
        {
            writer.Write("_logits_"u8);
            writer.Write(64);
            writer.Write(512);
            writer.Write(3);
            writer.Write(new byte[100]);
        }
        Assert.Contains("truncated", Assert.Throws<EvaluationException>(() => new LogitsFileReader(truncated)).Message);
        Directory.Delete(dir, recursive: true);
    }
}
