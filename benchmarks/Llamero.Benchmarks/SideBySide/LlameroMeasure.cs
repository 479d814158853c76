using System.Diagnostics;
using Llamero.Diagnostics;
using Llamero.Models;

namespace Llamero.Benchmarks.SideBySide;

/// <summary>Measures Llamero on one model file, in this process, with an F16 KV cache of the request's context (as
/// <see cref="LlamaCppMeasure"/> configures llama.cpp).</summary>
internal static class LlameroMeasure
{
    public static Measurement Run(MeasureRequest r)
    {
        SpeedBench.UseThreads(r.Threads);
        var open = Stopwatch.StartNew();
        using var model = LlamaModel.Load(r.Model, new ModelLoadOptions { RepackWeights = r.Repack });
        double firstToken;
        using (var session = model.CreateSession(64))
        {
            var logits = session.Evaluate(MeasureRequest.RandomTokens(model.Config.VocabSize, 8));
            _ = logits.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(logits));
            firstToken = open.Elapsed.TotalSeconds;
        }
        var results = new Dictionary<string, double>();
        foreach (var n in r.Prompt)
            results[LlamaCppMeasure.TestName("pp", n, r.Depth)] = Median(SpeedBench.PromptProcessing(model, n, r.Repetitions,
                cacheTypes: KvCacheOptions.F16, depth: r.Depth, contextSize: r.ContextSize).TokensPerSecond);
        foreach (var n in r.Generate)
            results[LlamaCppMeasure.TestName("tg", n, r.Depth)] = Median(SpeedBench.Generation(model, n, r.Repetitions,
                cacheTypes: KvCacheOptions.F16, depth: r.Depth, contextSize: r.ContextSize).TokensPerSecond);
        return new Measurement("llamero", results, Measurement.PeakRss(), firstToken);
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }
}
