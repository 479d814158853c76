using System.Globalization;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// <c>-- gemm-kernel [--type Q4_K] [--cols 2048] [--count 16] [--groups 4] [--rounds 5]</c>: one layout's Gemm kernel alone, on one
/// thread, by thread CPU time: <c>groups</c> groups of eight rows (few, so the weights stay in cache) against <c>count</c>
/// activation rows, called over and over; the best round in G multiply-adds/s. The kernel's own speed, apart from the
/// matmul's partitioning and memory.
/// </summary>
internal static unsafe class GemmKernelMeasure
{
    public static int Run(string[] args)
    {
        var type = Enum.Parse<GgmlType>(Option(args, "--type", "Q4_K"));
        var cols = int.Parse(Option(args, "--cols", "2048"), CultureInfo.InvariantCulture);
        var count = int.Parse(Option(args, "--count", "16"), CultureInfo.InvariantCulture);
        var groups = int.Parse(Option(args, "--groups", "4"), CultureInfo.InvariantCulture);
        var rounds = int.Parse(Option(args, "--rounds", "5"), CultureInfo.InvariantCulture);
        var layout = InterleavedLayouts.Default(type) ?? throw new ArgumentException($"{type} has no repacked layout.");
        var format = QuantFormats.Get(type);
        var partner = QuantFormats.Get(format.DotPartner);
        var rowBytes = (int)format.Traits.RowBytes(cols);
        var groupBytes = (int)layout.GroupBytes(cols);
        var actBytes = (int)partner.Traits.RowBytes(cols);
        var rng = new Random(1);
        var values = new float[cols];
        var plain = new byte[rowBytes * layout.RowGroup];
        var packed = (byte*)NativeMemory.AlignedAlloc((nuint)(groupBytes * groups), 64);
        for (var g = 0; g < groups; g++)
        {
            for (var r = 0; r < layout.RowGroup; r++)
            {
                for (var i = 0; i < cols; i++)
                    values[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
                format.Quantize(values, plain.AsSpan(r * rowBytes, rowBytes));
            }
            layout.Pack(plain, cols, new Span<byte>(packed + (long)g * groupBytes, groupBytes));
        }
        var acts = new byte[actBytes * count];
        for (var b = 0; b < count; b++)
        {
            for (var i = 0; i < cols; i++)
                values[i] = (float)(rng.NextDouble() * 2 - 1);
            partner.Quantize(values, acts.AsSpan(b * actBytes, actBytes));
        }
        var results = new float[count * layout.RowGroup];
        var level = SimdPath.Current;
        var macs = (double)layout.RowGroup * cols * count * groups;
        var calls = Math.Max(1, (int)(2e9 / macs)); // about 30 ms a round
        var best = double.MaxValue;
        for (var round = -1; round < rounds; round++)
        {
            var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
            for (var c = 0; c < calls; c++)
                for (var g = 0; g < groups; g++)
                    layout.Gemm(level, new ReadOnlySpan<byte>(packed + (long)g * groupBytes, groupBytes), acts, actBytes, count, cols, results, layout.RowGroup);
            var seconds = Llamero.Diagnostics.ThreadCpuTime.Seconds() - start;
            if (round >= 0)
                best = Math.Min(best, seconds);
        }
        NativeMemory.AlignedFree(packed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{layout.Name} Gemm, {cols} cols, {count} activation rows, {groups} group(s), {level}: {macs * calls / best / 1e9:F1} GMAC/s (best of {rounds})"));
        return 0;
    }

    private static string Option(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
