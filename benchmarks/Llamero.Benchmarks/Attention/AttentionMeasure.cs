using System.Globalization;
using Llamero.Kernels;
using Llamero.Models;

namespace Llamero.Benchmarks.Attention;

/// <summary>
/// <c>-- attention [--positions 512,2048,4096] [--shapes tinyllama,synthia,llama2-7b] [--types f32,f16,q8_0,q4_0] [--rounds 5] [--parts]</c>:
/// the attention of one token (every query head of one layer over a cache of P positions) with a KV cache of each type
/// (keys and values alike; the quantized ones with llama.cpp's Hadamard rotation), timed by this thread's CPU time
/// (CLOCK_THREAD_CPUTIME_ID), A/B in one process, rounds interleaved and the best kept. Prints microseconds per layer
/// and milliseconds per token (all layers), and each type's ratio to F16. <c>--parts</c> also times the steps of one KV head's group
/// alone (scores, softmax, weighted sum, widening F16 rows) on the first shape at the longest position.
/// </summary>
public static class AttentionMeasure
{
    private sealed record Shape(string Name, int Layers, int Heads, int KvHeads, int HeadSize);

    private static readonly Shape[] Shapes =
    [
        new("tinyllama", 22, 32, 4, 64),
        new("synthia", 80, 64, 8, 128),
        new("llama2-7b", 32, 32, 32, 128),
    ];

    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        var positions = Arg("--positions", "512,2048,4096").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var shapes = Arg("--shapes", "tinyllama,synthia,llama2-7b").Split(',');
        var rounds = int.Parse(Arg("--rounds", "5"), CultureInfo.InvariantCulture);
        // A type names keys and values alike; "k/v" names them apart (q8_0/f16: Q8_0 keys, F16 values).
        var types = Arg("--types", "f32,f16,q8_0,q4_0").Split(',').Select(t => t.Split('/')).Select(kv =>
            new KvCacheOptions(KvCacheOptions.ParseType(kv[0]), KvCacheOptions.ParseType(kv[^1]))).ToArray();
        Thread.BeginThreadAffinity();
        Console.WriteLine($"attention of one token, one thread, {SimdPath.Current}, thread CPU time, best of {rounds}; µs per layer (ms per token, all layers)");
        var names = types.Select(t => t.Keys == t.Values ? KvCacheOptions.Name(t.Keys) : $"{KvCacheOptions.Name(t.Keys)}/{KvCacheOptions.Name(t.Values)}").ToArray();
        var baseline = Array.IndexOf(types, KvCacheOptions.F16);
        Console.WriteLine("| shape | position | " + string.Join(" | ", names) + " | " + string.Join(" | ", names.Where((_, i) => i != baseline).Select(n => $"{n}/f16")) + " |");
        Console.WriteLine("| --- | ---: |" + string.Concat(Enumerable.Repeat(" ---: |", 2 * names.Length - (baseline >= 0 ? 1 : 0))));
        foreach (var shape in Shapes.Where(s => shapes.Contains(s.Name)))
        foreach (var p in positions)
        {
            var cases = types.Select(t => new Case(shape, p, t)).ToArray();
            var best = cases.Select(_ => double.MaxValue).ToArray();
            for (var round = 0; round < rounds; round++)
                for (var c = 0; c < cases.Length; c++)
                {
                    var calls = Math.Max(1, 8192 / p);
                    var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                    for (var k = 0; k < calls; k++)
                        cases[c].AttendAllHeads();
                    best[c] = Math.Min(best[c], (Llamero.Diagnostics.ThreadCpuTime.Seconds() - start) / calls);
                }
            var cells = best.Select(b => FormattableString.Invariant($"{b * 1e6:F1} ({b * 1e3 * shape.Layers:F2})"));
            var ratios = baseline < 0 ? [] : best.Where((_, i) => i != baseline).Select(b => FormattableString.Invariant($"{b / best[baseline]:F2}"));
            Console.WriteLine($"| {shape.Name} | {p} | " + string.Join(" | ", cells.Concat(ratios)) + " |");
        }
        if (args.Contains("--parts"))
            Parts(Shapes.First(s => shapes.Contains(s.Name)), positions.Max(), rounds);
        return 0;
    }

    // The F32 kernel's three steps alone, one KV head's group over a cache of `length` positions.
    private static void Parts(Shape shape, int length, int rounds)
    {
        int hs = shape.HeadSize, stride = hs, group = shape.Heads / shape.KvHeads; // one KV head's positions, as KvCache stores them
        var rng = new Random(1);
        var cache = Enumerable.Range(0, length * stride).Select(_ => (float)rng.NextDouble()).ToArray();
        var q = Enumerable.Range(0, group * hs).Select(_ => (float)rng.NextDouble()).ToArray();
        var scores = new float[group * length];
        var o = new float[group * hs];
        var level = SimdPath.Current;
        var steps = new (string Name, Action Run)[]
        {
            ("scores", () =>
            {
                for (var t0 = 0; t0 < length; t0 += CacheAttention.BlockRows)
                    for (var g = 0; g < group; g++)
                        AttentionBlocks.Scores(q.AsSpan(g * hs, hs), cache.AsSpan(t0 * stride), stride, Math.Min(CacheAttention.BlockRows, length - t0), 0.1f, scores.AsSpan(g * length + t0), level);
            }),
            ("softmax", () =>
            {
                for (var g = 0; g < group; g++)
                    Softmax.Apply(scores.AsSpan(g * length, length), level);
            }),
            ("weighted sum", () =>
            {
                for (var t0 = 0; t0 < length; t0 += CacheAttention.BlockRows)
                    for (var g = 0; g < group; g++)
                        AttentionBlocks.WeightedSum(scores.AsSpan(g * length + t0), cache.AsSpan(t0 * stride), stride, Math.Min(CacheAttention.BlockRows, length - t0), o.AsSpan(g * hs, hs), level);
            }),
            ("widen F16 rows", () =>
            {
                var halves = new ushort[hs];
                var tile = new float[hs];
                for (var t = 0; t < length; t++)
                    Llamero.Quants.Fp16.ToSingle(halves, tile);
            }),
        };
        foreach (var (name, run) in steps)
        {
            var best = double.MaxValue;
            for (var r = 0; r < rounds; r++)
            {
                var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                run();
                best = Math.Min(best, Llamero.Diagnostics.ThreadCpuTime.Seconds() - start);
            }
            Console.WriteLine(FormattableString.Invariant($"{shape.Name} {length}: {name,-14} {best * 1e6,9:F1} µs per KV head"));
        }
    }

    // One layer's cache filled with random rows, and one token's queries.
    private sealed class Case
    {
        private readonly Shape _shape;
        private readonly int _length;
        private readonly KvCache _cache;
        private readonly float[] _queries;
        private readonly float[] _scores;
        private readonly float[] _output;

        public Case(Shape shape, int length, KvCacheOptions types)
        {
            _shape = shape;
            _length = length;
            var row = shape.KvHeads * shape.HeadSize;
            _cache = new KvCache(1, length, row, types, shape.KvHeads);
            var rng = new Random(length);
            var keys = new float[length * row];
            var values = new float[length * row];
            for (var i = 0; i < keys.Length; i++)
            {
                keys[i] = (float)(rng.NextDouble() * 2 - 1);
                values[i] = (float)(rng.NextDouble() * 2 - 1);
            }
            _cache.Store(0, 0, keys, values);
            _queries = Enumerable.Range(0, shape.Heads * shape.HeadSize).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            _scores = new float[shape.Heads * length];
            _output = new float[shape.Heads * shape.HeadSize];
        }

        public void AttendAllHeads()
        {
            int hs = _shape.HeadSize, group = _shape.Heads / _shape.KvHeads;
            for (var kv = 0; kv < _shape.KvHeads; kv++)
                _cache.Attend(0, _queries.AsSpan(kv * group * hs, group * hs), group, kv, _length,
                    _scores.AsSpan(kv * group * _length, group * _length), _length, _output.AsSpan(kv * group * hs, group * hs));
        }
    }
}
