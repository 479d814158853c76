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
    /// <summary>Evaluates <paramref name="tokens"/> random tokens in one call (batched), <paramref name="repetitions"/> times,
    /// after <paramref name="depth"/> tokens already in the cache (llama-bench's <c>-d</c>; evaluated once, not timed), in
    /// a session of at least <paramref name="contextSize"/> positions whose cache is <paramref name="cacheTypes"/>
    /// (null: <see cref="KvCacheOptions.Default"/>).</summary>
    public static SpeedResult PromptProcessing(LlamaModel model, int tokens, int repetitions, int seed = 42,
        KvCacheOptions? cacheTypes = null, int depth = 0, int contextSize = 0)
    {
        using var session = model.CreateSession(Math.Max(contextSize, depth + tokens), cacheTypes);
        Prefill(session, model.Config.VocabSize, depth, seed);
        var prompt = RandomTokens(model.Config.VocabSize, tokens, seed);
        var seconds = Repeat(repetitions, () =>
        {
            session.Truncate(depth);
            var sw = Stopwatch.StartNew();
            session.Evaluate(prompt);
            return sw.Elapsed.TotalSeconds;
        });
        return new SpeedResult(Name("pp", tokens, depth), tokens, seconds);
    }

    /// <summary>Evaluates <paramref name="tokens"/> random tokens one at a time after <paramref name="depth"/> cached tokens
    /// (other arguments as in <see cref="PromptProcessing"/>).</summary>
    public static SpeedResult Generation(LlamaModel model, int tokens, int repetitions, int seed = 42,
        KvCacheOptions? cacheTypes = null, int depth = 0, int contextSize = 0)
    {
        using var session = model.CreateSession(Math.Max(contextSize, depth + tokens + 1), cacheTypes);
        Prefill(session, model.Config.VocabSize, depth, seed);
        var ids = RandomTokens(model.Config.VocabSize, tokens, seed);
        var seconds = Repeat(repetitions, () =>
        {
            session.Truncate(depth);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < ids.Length; i++)
                session.Evaluate(ids.AsSpan(i, 1));
            return sw.Elapsed.TotalSeconds;
        });
        return new SpeedResult(Name("tg", tokens, depth), tokens, seconds);
    }

    // llama-bench's test names: "tg128", or "tg128 @ d4096" after a prefilled depth.
    private static string Name(string kind, int tokens, int depth) => depth > 0 ? $"{kind}{tokens} @ d{depth}" : $"{kind}{tokens}";

    // The depth's tokens, in batches of 512 (llama-bench's micro-batch).
    private static void Prefill(IModelSession session, int vocab, int depth, int seed)
    {
        var ids = RandomTokens(vocab, depth, seed + 1);
        for (var start = 0; start < depth; start += 512)
            session.Evaluate(ids.AsSpan(start, Math.Min(512, depth - start)));
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
