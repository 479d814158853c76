using System.Globalization;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Loading;

/// <summary>
/// <c>-- repack-pack FILE...</c>: how fast each interleaved layout packs, one thread, from memory to memory (no page
/// faults): for every format with a layout (and its reference layout) the first <c>blk.*</c> matrix of that format in
/// the files is packed whole, best of five after a warm-up, in MB of plain bytes per second of thread CPU time.
/// Loading repacks a model at about this rate times the threads, plus the cost of fresh memory.
/// </summary>
internal static class PackThroughputMeasure
{
    public static unsafe int Run(string[] files)
    {
        var seen = new HashSet<GgmlType>();
        foreach (var path in files)
        {
            using var file = GgufFile.Open(path);
            foreach (var t in file.Tensors)
            {
                if (!t.Name.StartsWith("blk.", StringComparison.Ordinal) || t.Dimensions.Length != 2 || !seen.Add(t.Type))
                    continue;
                var rows = (int)t.Dimensions[1];
                var cols = (int)t.Dimensions[0];
                var source = file.GetTensorData(t).ToArray();
                foreach (var layout in new[] { InterleavedLayouts.Default(t.Type), Reference(t.Type) })
                {
                    if (layout is null || !layout.Fits(rows, cols))
                        continue;
                    var best = double.MaxValue;
                    var groups = rows / layout.RowGroup;
                    var plainGroup = (int)(layout.RowGroup * (source.Length / rows));
                    var packedGroup = (int)layout.GroupBytes(cols);
                    var destination = new byte[(long)groups * packedGroup];
                    for (var run = 0; run < 6; run++)
                    {
                        var cpu0 = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                        for (var g = 0; g < groups; g++)
                            layout.Pack(source.AsSpan(g * plainGroup, plainGroup), cols, destination.AsSpan(g * packedGroup, packedGroup));
                        if (run > 0)
                            best = Math.Min(best, Llamero.Diagnostics.ThreadCpuTime.Seconds() - cpu0);
                    }
                    var mbs = source.Length / 1e6 / best;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{layout.Name,-18} {t.Name} ({cols} x {rows}, {source.Length / 1e6:F1} MB): {mbs,8:F0} MB/s of plain bytes per thread"));
                }
            }
        }
        return 0;
    }

    private static WeightLayout? Reference(GgmlType type)
    {
        try
        {
            return InterleavedLayouts.Reference(type);
        }
        catch (NotSupportedException)
        {
            return null;
        }
    }
}
