using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>
/// Measures llama.cpp (the native build LLamaSharp.Backend.Cpu 0.30.0 loads) on one model file, in this process, the
/// way llama-bench does: random tokens, cache cleared (down to the request's depth) before each repetition, one uncounted
/// warm-up. llama.cpp runs with its defaults (F16 KV cache, stated explicitly, flash attention as it chooses, weights
/// repacked at load) and the request's context.
/// </summary>
internal static class LlamaCppMeasure
{
    public static Measurement Run(MeasureRequest r)
    {
        NativeApi.llama_empty_call();
        NativeLogConfig.llama_log_set((_, _) => { });
        var maxPrompt = r.Prompt.DefaultIfEmpty(8).Max();
        var p = new ModelParams(r.Model)
        {
            ContextSize = (uint)Math.Max(r.ContextSize, 64),
            BatchSize = (uint)Math.Max(maxPrompt, 512),
            // The depth is evaluated in batches of 512, as Llamero's SpeedBench does it (llama-bench's micro-batch).
            UBatchSize = (uint)Math.Min(512, Math.Max(r.Depth > 0 ? 512 : maxPrompt, 64)),
            Threads = r.Threads,
            BatchThreads = r.Threads,
            // llama.cpp's default, stated so the comparison does not hang on it: Llamero measures the same cache type.
            TypeK = GGMLType.GGML_TYPE_F16,
            TypeV = GGMLType.GGML_TYPE_F16,
        };
        var open = Stopwatch.StartNew();
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var vocab = weights.Vocab.Count;
        Decode(ctx, MeasureRequest.RandomTokens(vocab, 8), 0);
        var logits = ctx.NativeHandle.GetLogitsIth(7);
        _ = logits.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(logits));
        var firstToken = open.Elapsed.TotalSeconds;

        var results = new Dictionary<string, double>();
        foreach (var n in r.Prompt)
        {
            var tokens = MeasureRequest.RandomTokens(vocab, n);
            results[TestName("pp", n, r.Depth)] = LlameroMeasure.Median(Repeat(r.Repetitions, () =>
            {
                Reset(ctx, r.Depth, vocab);
                var sw = Stopwatch.StartNew();
                Decode(ctx, tokens, r.Depth);
                return n / sw.Elapsed.TotalSeconds;
            }));
        }
        foreach (var n in r.Generate)
        {
            var tokens = MeasureRequest.RandomTokens(vocab, n);
            results[TestName("tg", n, r.Depth)] = LlameroMeasure.Median(Repeat(r.Repetitions, () =>
            {
                Reset(ctx, r.Depth, vocab);
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < n; i++)
                    Decode(ctx, tokens.AsSpan(i, 1), r.Depth + i);
                return n / sw.Elapsed.TotalSeconds;
            }));
        }
        return new Measurement("llama.cpp", results, Measurement.PeakRss(), firstToken);
    }

    /// <summary>llama-bench's test names: "tg128", or "tg128 @ d4096" after a prefilled depth.</summary>
    public static string TestName(string kind, int tokens, int depth) => depth > 0 ? $"{kind}{tokens} @ d{depth}" : $"{kind}{tokens}";

    // Empties the cache down to the depth's tokens, evaluating them (in batches of 512) the first time.
    private static void Reset(LLamaContext ctx, int depth, int vocab)
    {
        if (depth == 0 || ctx.NativeHandle.MemorySequenceMaxPosition(LLamaSeqId.Zero).Value < depth - 1)
        {
            ctx.NativeHandle.MemoryClear(true);
            var ids = MeasureRequest.RandomTokens(vocab, depth, 43);
            for (var start = 0; start < depth; start += 512)
                Decode(ctx, ids.AsSpan(start, Math.Min(512, depth - start)), start);
        }
        else
            ctx.NativeHandle.MemorySequenceRemove(LLamaSeqId.Zero, depth, -1);
    }

    // One batch reused by every decode, so the timed loop allocates nothing on the managed side.
    private static readonly LLamaBatch Batch = new();

    private static void Decode(LLamaContext ctx, ReadOnlySpan<int> tokens, int position)
    {
        var batch = Batch;
        batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
            batch.Add(tokens[i], position + i, LLamaSeqId.Zero, i == tokens.Length - 1);
        var result = ctx.Decode(batch);
        if (result != DecodeResult.Ok)
            throw new InvalidOperationException($"llama.cpp decode failed: {result}");
    }

    private static List<double> Repeat(int repetitions, Func<double> run)
    {
        run();
        return Enumerable.Range(0, repetitions).Select(_ => run()).ToList();
    }
}
