using System.Runtime.InteropServices;
using Llamero.Benchmarks.SideBySide;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// <c>-- gemv-stream [layout] [MB] [rounds] [cols]</c>: one thread streams a model-sized region of repacked weights through
/// the layout's Gemv, the way token generation reads them (every group once per token, cols 2048 as TinyLlama unless
/// given), beside
/// a plain read of the same bytes (the bandwidth probe's loop), each on 4 KB pages and on transparent huge pages
/// (<c>MADV_HUGEPAGE</c>), and the Gemv over 512 KB of groups that stay in L2 (its speed apart from memory). Timed by the thread's CPU time, variants alternating round by round; prints the median
/// and best GB/s of each, so a shared machine moves them little.
/// </summary>
internal static unsafe class GemvStreamMeasure
{
    private const int HugePage = 2 << 20;

    public static int Run(string[] args)
    {
        var layout = InterleavedLayouts.All.First(l => l.Name == (args.Length > 0 ? args[0] : "Q4_Kx8"));
        var megabytes = args.Length > 1 ? int.Parse(args[1]) : 256;
        var rounds = args.Length > 2 ? int.Parse(args[2]) : 9;
        var cols = args.Length > 3 ? int.Parse(args[3]) : 2048;
        var groupBytes = layout.GroupBytes(cols);
        var groups = (int)((long)megabytes * (1 << 20) / groupBytes);
        var bytes = groups * groupBytes;
        var small = Build(layout, groups, groupBytes, cols, huge: false);
        var huge = Build(layout, groups, groupBytes, cols, huge: true);
        var format = QuantFormats.Get(layout.Type);
        var actBytes = (int)QuantFormats.Get(format.DotPartner).Traits.RowBytes(cols);
        var activation = new byte[actBytes];
        var row = new float[cols];
        var rng = new Random(3);
        for (var i = 0; i < cols; i++)
            row[i] = (float)(rng.NextDouble() * 2 - 1);
        MatMul.ActivationQuantizer(format.DotPartner)(row, activation);
        var results = new float[layout.RowGroup];
        var level = SimdPath.Current;

        // Cache-resident: 512 KB of groups, repeated to the same byte count.
        var hotGroups = (int)(512 * 1024 / groupBytes);
        var hotReps = groups / hotGroups;
        void Gemv(byte* region, int count = -1)
        {
            for (var g = 0; g < (count < 0 ? groups : count); g++)
                layout.Gemv(level, new ReadOnlySpan<byte>(region + g * groupBytes, (int)groupBytes), activation, cols, results);
        }

        var cases = new List<(string Name, Action Run, long Bytes)>
        {
            ("Gemv 4K pages", () => Gemv(small), bytes),
            ("Gemv huge pages", () => Gemv(huge), bytes),
            ("Gemv cache-hot", () =>
            {
                for (var k = 0; k < hotReps; k++)
                    Gemv(small, hotGroups);
            }, hotReps * hotGroups * groupBytes),
            ("read 4K pages", () => Sink += ReadBandwidth.Sum(small, bytes), bytes),
            ("read huge pages", () => Sink += ReadBandwidth.Sum(huge, bytes), bytes),
        };
        Thread.BeginThreadAffinity();
        var seconds = cases.Select(_ => new List<double>()).ToArray();
        foreach (var c in cases)
            c.Run(); // JIT and first touch
        for (var round = 0; round < rounds; round++)
            for (var c = 0; c < cases.Count; c++)
            {
                var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                cases[c].Run();
                seconds[c].Add(Llamero.Diagnostics.ThreadCpuTime.Seconds() - start);
            }
        Console.WriteLine($"{layout.Name}, {bytes / 1e6:F0} MB, {groups} groups of {cols} columns, {level}, thread CPU time over {rounds} rounds:");
        for (var c = 0; c < cases.Count; c++)
        {
            var sorted = seconds[c].Order().ToArray();
            Console.WriteLine($"  {cases[c].Name,-18} median {cases[c].Bytes / sorted[sorted.Length / 2] / 1e9,5:F1} GB/s   best {cases[c].Bytes / sorted[0] / 1e9,5:F1} GB/s");
        }
        NativeMemory.AlignedFree(small);
        NativeMemory.AlignedFree(huge);
        return 0;
    }

    // The weights' magnitude (env GEMV_STREAM_SCALE, default 0.05): 0.0005 gives subnormal fp16 block scales, as Q6_K's
    // are in real models and Q4_K's in the synthetic ones.
    private static readonly float WeightScale = float.Parse(Environment.GetEnvironmentVariable("GEMV_STREAM_SCALE") ?? "0.05", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Keeps the sums observable.</summary>
    public static float Sink;

    // Packs 64 groups of real quantized rows and tiles them over the region.
    private static byte* Build(WeightLayout layout, int groups, long groupBytes, int cols, bool huge)
    {
        var bytes = groups * groupBytes;
        var region = (byte*)NativeMemory.AlignedAlloc((nuint)((bytes + HugePage - 1) / HugePage * HugePage), HugePage);
        if (huge)
            ReadBandwidth.AskHugePages(region, (bytes + HugePage - 1) / HugePage * HugePage);
        var format = QuantFormats.Get(layout.Type);
        var rowBytes = format.Traits.RowBytes(cols);
        var plain = new byte[layout.RowGroup * rowBytes];
        var row = new float[cols];
        var rng = new Random(1);
        const int distinct = 64;
        for (var g = 0; g < Math.Min(distinct, groups); g++)
        {
            for (var r = 0; r < layout.RowGroup; r++)
            {
                for (var i = 0; i < cols; i++)
                    row[i] = (float)(rng.NextDouble() * 2 - 1) * WeightScale;
                format.Quantize(row, plain.AsSpan((int)(r * rowBytes), (int)rowBytes));
            }
            layout.Pack(plain, cols, new Span<byte>(region + g * groupBytes, (int)groupBytes));
        }
        for (long g = distinct; g < groups; g++)
            Buffer.MemoryCopy(region + g % distinct * groupBytes, region + g * groupBytes, groupBytes, groupBytes);
        return region;
    }
}
