using System.Globalization;
using System.Runtime.InteropServices;
using Llamero.Kernels;
using Llamero.Models;

namespace Llamero.Benchmarks.Generation;

/// <summary>
/// <c>model-stream -m FILE [--layers N] [--rounds R] [-t THREADS]</c>: the matrices of the first N layers, multiplied by one
/// activation row each in forward order (as token generation reads them), straight from the loaded model's repacked copy
/// and from a fresh copy of the same bytes on 4 KB pages, rounds alternating; per weight type, the rate each streams at by
/// the calling thread's CPU time (one thread) or wall time (more). Tells whether where the loader put the weights costs speed.
/// <c>--pagemap</c> also prints how physically contiguous each copy's pages are (root only: /proc/self/pagemap).
/// </summary>
public static unsafe class ModelStreamMeasure
{
    public static int Run(string[] args)
    {
        var path = Arg(args, "-m") ?? throw new ArgumentException("model-stream needs -m FILE");
        var layers = int.Parse(Arg(args, "--layers") ?? "8", CultureInfo.InvariantCulture);
        var rounds = int.Parse(Arg(args, "--rounds") ?? "5", CultureInfo.InvariantCulture);
        var threads = int.Parse(Arg(args, "-t") ?? "1", CultureInfo.InvariantCulture);
        MatMul.Threads = threads;
        using var model = LlamaModel.Load(path);
        var w = model.Weights;
        var matrices = w.Layers.Take(layers)
            .SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Output, l.Gate, l.Up, l.Down }).ToArray();
        var total = matrices.Sum(m => (m.ByteSize + 4095) & ~4095L);
        var region = (byte*)NativeMemory.AlignedAlloc((nuint)total, 4096);
        var copies = new WeightMatrix[matrices.Length];
        long at = 0;
        for (var i = 0; i < matrices.Length; i++)
        {
            var m = matrices[i];
            Buffer.MemoryCopy((void*)m.Data, region + at, m.ByteSize, m.ByteSize);
            copies[i] = new WeightMatrix(m.Type, (nint)(region + at), m.Rows, m.Cols, m.Layout);
            at += (m.ByteSize + 4095) & ~4095L;
        }
        if (args.Contains("--pagemap"))
        {
            foreach (var (name, list) in new[] { ("model copy", matrices), ("fresh copy", copies) })
                Console.WriteLine($"{name}: {Contiguity(list)}");
        }
        var widest = matrices.Max(m => Math.Max(m.Rows, m.Cols));
        var x = new float[widest];
        var y = new float[widest];
        var rng = new Random(5);
        for (var i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);

        var types = matrices.Select(Shape).Distinct().ToArray();
        var variants = new[] { ("model copy", matrices), ("fresh copy", copies), ("direct Gemv", matrices) };
        var level = SimdPath.Current;
        var results = new float[8];
        var seconds = new Dictionary<(int Variant, string Shape), List<double>>();
        for (var round = -1; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                var spent = types.ToDictionary(t => t, _ => 0.0);
                foreach (var m in variants[v].Item2)
                {
                    var start = Clock(threads);
                    if (v < 2)
                        MatMul.Multiply(in m, x.AsSpan(0, m.Cols), y.AsSpan(0, m.Rows), 1);
                    else
                        DirectGemv(m, level, results);
                    spent[Shape(m)] += Clock(threads) - start;
                }
                if (round < 0)
                    continue;
                foreach (var t in types)
                    (seconds.TryGetValue((v, t), out var list) ? list : seconds[(v, t)] = []).Add(spent[t]);
            }
        }
        Console.WriteLine($"{Path.GetFileName(path)}: first {layers} layers, {threads} thread(s), {rounds} rounds, median (best) GB/s by {(threads == 1 ? "thread CPU" : "wall")} time:");
        foreach (var t in types)
        {
            var bytes = matrices.Where(m => Shape(m) == t).Sum(m => m.ByteSize);
            for (var v = 0; v < variants.Length; v++)
            {
                var sorted = seconds[(v, t)].Order().ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {t,-18} {bytes / 1e6,7:F0} MB  {variants[v].Item1}: {bytes / sorted[sorted.Length / 2] / 1e9,5:F1} ({bytes / sorted[0] / 1e9:F1})"));
            }
        }
        NativeMemory.AlignedFree(region);
        return 0;
    }

    // How physically contiguous the matrices' pages are (/proc/self/pagemap; needs root for the frame numbers).
    private static string Contiguity(WeightMatrix[] list)
    {
        using var pagemap = File.OpenRead("/proc/self/pagemap");
        long pages = 0, next = 0, present = 0;
        var entry = new byte[8];
        foreach (var m in list)
        {
            long previous = -2;
            for (var at = m.Data & ~4095L; at < m.Data + m.ByteSize; at += 4096)
            {
                pagemap.Position = at / 4096 * 8;
                pagemap.ReadExactly(entry);
                var value = BitConverter.ToUInt64(entry);
                var frame = (long)(value & ((1UL << 55) - 1));
                pages++;
                if ((value >> 63) != 0)
                    present++;
                if (frame == previous + 1)
                    next++;
                previous = frame;
            }
        }
        return $"{pages} pages, {present} present, {100.0 * next / pages:F1}% follow the previous page physically";
    }

    private static readonly Dictionary<int, byte[]> Activations = [];

    private static void DirectGemv(WeightMatrix m, SimdLevel level, float[] results)
    {
        var layout = m.Layout!;
        var partner = Llamero.Quants.QuantFormats.Get(m.Type).DotPartner;
        if (!Activations.TryGetValue(m.Cols, out var act))
        {
            var row = new float[m.Cols];
            var rng = new Random(5);
            for (var i = 0; i < row.Length; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1);
            act = Activations[m.Cols] = new byte[Llamero.Quants.QuantFormats.Get(partner).Traits.RowBytes(m.Cols)];
            MatMul.ActivationQuantizer(partner)(row, act);
        }
        var groupBytes = layout.GroupBytes(m.Cols);
        for (var g = 0; g < m.Rows / layout.RowGroup; g++)
            layout.Gemv(level, new ReadOnlySpan<byte>((byte*)m.Data + g * groupBytes, (int)groupBytes), act, m.Cols, results);
    }

    private static string Shape(WeightMatrix m) => $"{m.Type} {m.Rows}x{m.Cols}";

    private static double Clock(int threads) =>
        threads == 1 ? Llamero.Diagnostics.ThreadCpuTime.Seconds() : System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency;

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
