using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Loading;

/// <summary>
/// <c>-- load-phases FILE</c>: where a repacking load's time goes, one thread, phase by phase over every matrix the
/// loader repacks: mapping the file's pages in, fresh pages for the copy (4 KiB and transparent huge pages), packing,
/// releasing the file's pages, and the alternatives (reading with pread, a plain copy). Thread CPU and wall seconds.
/// </summary>
internal static unsafe class LoadPhasesMeasure
{
    public static int Run(string path)
    {
        using var file = GgufFile.Open(path);
        var mats = new List<(nint Source, long Bytes, int Rows, int Cols, WeightLayout Layout)>();
        foreach (var t in file.Tensors)
        {
            if (t.Name == "token_embd.weight" || t.Dimensions.Length != 2 || InterleavedLayouts.Default(t.Type) is not { } layout)
                continue;
            if (!layout.Fits((int)t.Dimensions[1], (int)t.Dimensions[0]))
                continue;
            mats.Add((file.GetTensorPointer(t), t.ByteSize, (int)t.Dimensions[1], (int)t.Dimensions[0], layout));
        }
        var total = mats.Sum(m => m.Layout.GroupBytes(m.Cols) * (m.Rows / m.Layout.RowGroup));
        Console.WriteLine($"{mats.Count} matrices, {total >> 20} MiB");
        void Phase(string name, Action action)
        {
            var cpu = Llamero.Diagnostics.ThreadCpuTime.Seconds();
            var wall = Stopwatch.StartNew();
            action();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-40} cpu {Llamero.Diagnostics.ThreadCpuTime.Seconds() - cpu,6:F3} s  wall {wall.Elapsed.TotalSeconds,6:F3} s"));
        }
        void ReleaseSources()
        {
            foreach (var m in mats) MemoryAdvice.Advise(m.Source, m.Bytes, MemoryAdvice.DontNeed, wholePagesOnly: true);
        }
        byte* region = null;
        void Alloc(bool huge)
        {
            region = (byte*)NativeMemory.AlignedAlloc((nuint)total, 2 << 20);
            if (huge)
                MemoryAdvice.Advise((nint)region, total, MemoryAdvice.HugePage);
            MemoryAdvice.Advise((nint)region, total, MemoryAdvice.PopulateWrite);
        }
        void Pack()
        {
            var d = region;
            foreach (var m in mats)
            {
                var pg = m.Bytes / (m.Rows / m.Layout.RowGroup);
                var gb = m.Layout.GroupBytes(m.Cols);
                for (var g = 0; g < m.Rows / m.Layout.RowGroup; g++)
                    m.Layout.Pack(new ReadOnlySpan<byte>((byte*)m.Source + g * pg, (int)pg), m.Cols, new Span<byte>(d + g * gb, (int)gb));
                d += gb * (m.Rows / m.Layout.RowGroup);
            }
        }
        ReleaseSources();
        Phase("populate-read file pages", () => { foreach (var m in mats) MemoryAdvice.Advise(m.Source, m.Bytes, MemoryAdvice.PopulateRead); });
        Phase("alloc + populate-write 4K", () => Alloc(false));
        Phase("pack (both populated)", Pack);
        Phase("pack again (warm)", Pack);
        Phase("memcpy source -> copy", () =>
        {
            var d = region;
            foreach (var m in mats) { Buffer.MemoryCopy((void*)m.Source, d, m.Bytes, m.Bytes); d += m.Bytes; }
        });
        Phase("release file pages (DONTNEED)", ReleaseSources);
        Phase("free copy", () => NativeMemory.AlignedFree(region));
        Phase("alloc + populate-write THP", () => Alloc(true));
        Phase("free copy (THP)", () => NativeMemory.AlignedFree(region));
        Phase("alloc + populate-write THP (again)", () => Alloc(true));
        Phase("free copy (THP again)", () => NativeMemory.AlignedFree(region));
        Phase("alloc + populate-write 4K (again)", () => Alloc(false));
        var scratch = (byte*)NativeMemory.AlignedAlloc(1 << 20, 4096);
        using var handle = File.OpenHandle(path);
        var dataStart = file.DataOffset();
        Phase("pread 1 MiB chunks into scratch", () =>
        {
            foreach (var t in file.Tensors)
                for (long o = 0; o < t.ByteSize; o += 1 << 20)
                    RandomAccess.Read(handle, new Span<byte>(scratch, (int)Math.Min(1 << 20, t.ByteSize - o)), dataStart + t.Offset + o);
        });
        Phase("pread straight into the copy", () =>
        {
            long d = 0;
            foreach (var t in file.Tensors)
            {
                if (d + t.ByteSize > total) break;
                for (long o = 0; o < t.ByteSize; o += 1 << 20)
                    RandomAccess.Read(handle, new Span<byte>(region + d + o, (int)Math.Min(1 << 20, t.ByteSize - o)), dataStart + t.Offset + o);
                d += t.ByteSize;
            }
        });
        Phase("touch file pages by faults (1 byte/page)", () =>
        {
            var sink = 0;
            foreach (var m in mats) for (long i = 0; i < m.Bytes; i += 4096) sink += ((byte*)m.Source)[i];
            GC.KeepAlive(sink);
        });
        ReleaseSources();
        NativeMemory.AlignedFree(region);
        NativeMemory.AlignedFree(scratch);
        return 0;
    }
}
