using System.Diagnostics;
using Llamero.Kernels;
using Llamero.Models;

namespace Llamero.Diagnostics;

/// <summary>One measured test, as llama-bench names them: "pp128" (prompt of 128 tokens in one batch) or "tg128"
/// (128 tokens generated one at a time).</summary>
public sealed record SpeedResult(string Test, int Tokens, IReadOnlyList<double> Seconds)
{
    /// <summary>Tokens per second of each repetition.</summary>
    public IEnumerable<double> TokensPerSecond => Seconds.Select(s => Tokens / s);

    /// <summary>Mean tokens per second over the repetitions.</summary>
    public double Mean => TokensPerSecond.Average();

    /// <summary>Sample standard deviation of tokens per second (0 for a single repetition).</summary>
    public double StandardDeviation
    {
        get
        {
            var values = TokensPerSecond.ToArray();
            if (values.Length < 2)
                return 0;
            var mean = values.Average();
            return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        }
    }
}

/// <summary>
/// Prompt-processing and generation speed of a loaded model, measured the way llama-bench does: random token ids,
/// an empty cache at the start of each repetition, one warm-up run that is not counted.
/// </summary>
public static class SpeedBench
{
    /// <summary>Evaluates <paramref name="tokens"/> random tokens in one call (batched), <paramref name="repetitions"/> times.</summary>
    public static SpeedResult PromptProcessing(LlamaModel model, int tokens, int repetitions, int seed = 42)
    {
        using var session = model.CreateSession(tokens);
        var prompt = RandomTokens(model.Config.VocabSize, tokens, seed);
        var seconds = Repeat(repetitions, () =>
        {
            session.Truncate(0);
            var sw = Stopwatch.StartNew();
            session.Evaluate(prompt);
            return sw.Elapsed.TotalSeconds;
        });
        return new SpeedResult($"pp{tokens}", tokens, seconds);
    }

    /// <summary>Evaluates <paramref name="tokens"/> random tokens one at a time from an empty cache.</summary>
    public static SpeedResult Generation(LlamaModel model, int tokens, int repetitions, int seed = 42)
    {
        using var session = model.CreateSession(tokens + 1);
        var ids = RandomTokens(model.Config.VocabSize, tokens, seed);
        var seconds = Repeat(repetitions, () =>
        {
            session.Truncate(0);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < ids.Length; i++)
                session.Evaluate(ids.AsSpan(i, 1));
            return sw.Elapsed.TotalSeconds;
        });
        return new SpeedResult($"tg{tokens}", tokens, seconds);
    }

    /// <summary>Sets the number of threads the matrix kernels use (the caller's thread included).</summary>
    public static void UseThreads(int threads) => MatMul.Threads = threads;

    private static List<double> Repeat(int repetitions, Func<double> run)
    {
        run(); // warm-up: JIT, page cache, worker pool start
        var seconds = new List<double>(repetitions);
        for (var r = 0; r < repetitions; r++)
            seconds.Add(run());
        return seconds;
    }

    private static int[] RandomTokens(int vocab, int count, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(vocab)).ToArray();
    }
}
