using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>
/// Measures llama.cpp (the native build LLamaSharp.Backend.Cpu 0.30.0 loads) on one model file, in this process, the
/// way llama-bench does: random tokens, cache cleared before each repetition, one uncounted warm-up. llama.cpp runs with
/// its defaults (F16 KV cache, flash attention as it chooses, weights repacked at load).
/// </summary>
internal static class LlamaCppMeasure
{
    public static Measurement Run(MeasureRequest r)
    {
        NativeApi.llama_empty_call();
        NativeLogConfig.llama_log_set((_, _) => { });
        var maxPrompt = r.Prompt.DefaultIfEmpty(8).Max();
        var context = Math.Max(maxPrompt, r.Generate.DefaultIfEmpty(0).Max() + 1);
        var p = new ModelParams(r.Model)
        {
            ContextSize = (uint)Math.Max(context, 64),
            BatchSize = (uint)Math.Max(maxPrompt, 64),
            UBatchSize = (uint)Math.Min(512, Math.Max(maxPrompt, 64)),
            Threads = r.Threads,
            BatchThreads = r.Threads,
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
            results[$"pp{n}"] = LlameroMeasure.Median(Repeat(r.Repetitions, () =>
            {
                ctx.NativeHandle.MemoryClear(true);
                var sw = Stopwatch.StartNew();
                Decode(ctx, tokens, 0);
                return n / sw.Elapsed.TotalSeconds;
            }));
        }
        foreach (var n in r.Generate)
        {
            var tokens = MeasureRequest.RandomTokens(vocab, n);
            results[$"tg{n}"] = LlameroMeasure.Median(Repeat(r.Repetitions, () =>
            {
                ctx.NativeHandle.MemoryClear(true);
                var sw = Stopwatch.StartNew();
                for (var i = 0; i < n; i++)
                    Decode(ctx, tokens.AsSpan(i, 1), i);
                return n / sw.Elapsed.TotalSeconds;
            }));
        }
        return new Measurement("llama.cpp", results, Measurement.PeakRss(), firstToken);
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
