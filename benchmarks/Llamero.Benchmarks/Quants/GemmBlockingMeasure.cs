using System.Diagnostics;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// <c>-- gemm-blocking [--type Q4_K] [--rows 2048] [--cols 28672] [--batch 128] [--threads 1] [--rounds 5] [--variants off,128:320:128]</c>:
/// one repacked matrix multiplied by a prompt batch through <see cref="MatMul.Multiply(in WeightMatrix, ReadOnlySpan{float}, Span{float}, int)"/>,
/// whole rows (<c>off</c>) against column ranges forced (<see cref="GemmBlocking"/>: <c>panel rows : range KB : claim rows</c>) or as the
/// engine decides (<c>auto</c>: split only past L2), the
/// variants interleaved round by round in one process, each timed by CPU time (the thread's own on one thread, the
/// process's on more) and the best round kept; checks that every variant gives the same bits.
/// </summary>
internal static unsafe class GemmBlockingMeasure
{
    private sealed record Variant(string Name, bool Enabled, int Panel, int RangeKb, int Claim, int MinTileBytes = 0);

    // The defaults, as the engine runs: split only past L2.
    private static readonly Variant Auto = new("auto", true, GemmBlocking.PanelRows, GemmBlocking.RangeBytes / 1024, GemmBlocking.ClaimRows,
        GemmBlocking.MinTileBytes);

    public static int Run(string[] args)
    {
        var type = Enum.Parse<GgmlType>(Option(args, "--type", "Q4_K"));
        var rows = int.Parse(Option(args, "--rows", "2048"));
        var cols = int.Parse(Option(args, "--cols", "28672"));
        var batch = int.Parse(Option(args, "--batch", "128"));
        var threads = int.Parse(Option(args, "--threads", "1"));
        var rounds = int.Parse(Option(args, "--rounds", "5"));
        var variants = Option(args, "--variants", "off,128:320:128").Split(',').Select(Parse).ToArray();
        var layout = InterleavedLayouts.Default(type) ?? throw new ArgumentException($"{type} has no repacked layout.");
        var format = QuantFormats.Get(type);
        var rowBytes = format.Traits.RowBytes(cols);
        var plain = (byte*)NativeMemory.AlignedAlloc((nuint)(rowBytes * rows), 64);
        var rng = new Random(1);
        var values = new float[cols];
        // Quantizing every row takes long: 64 distinct rows, tiled over the matrix.
        const int distinct = 64;
        for (var r = 0; r < rows; r++)
        {
            if (r < distinct)
            {
                for (var i = 0; i < cols; i++)
                    values[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
                format.Quantize(values, new Span<byte>(plain + r * rowBytes, (int)rowBytes));
            }
            else
                Buffer.MemoryCopy(plain + r % distinct * rowBytes, plain + r * rowBytes, rowBytes, rowBytes);
        }
        using var repacked = new RepackedWeights(_ => layout);
        var w = repacked.Repack(new WeightMatrix(type, (nint)plain, rows, cols));
        NativeMemory.AlignedFree(plain);
        var x = new float[batch * cols];
        for (var i = 0; i < x.Length; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y = new float[batch * rows];
        var reference = new float[batch * rows];
        MatMul.Threads = threads;
        var best = variants.Select(_ => double.MaxValue).ToArray();
        for (var round = 0; round < rounds + 1; round++)
            for (var v = 0; v < variants.Length; v++)
            {
                Apply(variants[v]);
                var start = CpuSeconds(threads);
                MatMul.Multiply(in w, x, y, batch);
                var seconds = CpuSeconds(threads) - start;
                if (round == 0 && v == 0)
                    y.CopyTo(reference);
                else if (!y.AsSpan().SequenceEqual(reference))
                    throw new InvalidOperationException($"{variants[v].Name}: results differ from {variants[0].Name}.");
                if (round > 0)   // round 0 warms the JIT and the buffers
                    best[v] = Math.Min(best[v], seconds);
            }
        Apply(Auto);
        var macs = (double)rows * cols * batch;
        Console.WriteLine($"{layout.Name} {rows}x{cols}, batch {batch}, {threads} thread(s), {SimdPath.Current}, CPU time, best of {rounds}:");
        for (var v = 0; v < variants.Length; v++)
            Console.WriteLine($"  {variants[v].Name,-14} {best[v] * 1e3,9:F1} ms  {macs / best[v] / 1e9,6:F1} GMAC/s  {best[0] / best[v]:F3}x");
        return 0;
    }

    private static Variant Parse(string text)
    {
        if (text == "off")
            return new Variant(text, false, 0, 0, 0);
        if (text == "auto")
            return Auto;
        var parts = text.Split(':').Select(int.Parse).ToArray();
        return new Variant(text, true, parts[0], parts[1], parts[2]);
    }

    private static void Apply(Variant v)
    {
        GemmBlocking.Enabled = v.Enabled;
        if (!v.Enabled)
            return;
        GemmBlocking.PanelRows = v.Panel;
        GemmBlocking.RangeBytes = v.RangeKb * 1024;
        GemmBlocking.ClaimRows = v.Claim;
        GemmBlocking.MinTileBytes = v.MinTileBytes;
    }

    private static double CpuSeconds(int threads) =>
        threads == 1 ? Llamero.Diagnostics.ThreadCpuTime.Seconds() : Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
