using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Models;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Models;

/// <summary>
/// Resident memory while a model is repacked: the file's pages go chunk by chunk as they are copied, so at no point of
/// the load does the mapping hold more than a chunk per worker (plus the header and the pages chunks share at their
/// edges), not a whole matrix. Watched from inside the packing itself, through /proc/self/smaps.
/// </summary>
public sealed class RepackResidentTests
{
    // F16 matrices of 24 MiB (ffn 6144 x 2048): many chunks each, so a matrix-at-a-time release would show.
    private static readonly Lazy<string> Model = new(() =>
        SyntheticLlama.Write(SyntheticModelTests.Small with { Dim = 2048, FeedForward = 6144, Layers = 1, WeightType = GgmlType.F16, Seed = 9 }));

    // The kernel maps cached file pages a folio at a time (up to 2 MiB, one page-table entry for the lot), so a chunk
    // being read can bring in up to two folios around it, and the header's folio stays.
    private const long Folio = 2 << 20;

    [Fact]
    public void The_mapped_file_never_holds_more_than_a_chunk_per_worker_while_repacking()
    {
        if (!OperatingSystem.IsLinux())
            return;
        var options = new ModelLoadOptions { LayoutFor = t => t == GgmlType.F16 ? ResidentProbe.Layout : null };
        lock (ResidentProbe.Gate)
        {
            ResidentProbe.Start();
            using var model = LlamaModel.Load(Model.Value, options);
            Assert.True(ResidentProbe.Samples >= 100, $"{ResidentProbe.Samples} samples");
            Assert.Equal(8, model.Repacked.Matrices);
            var ffn = model.File.GetTensor("blk.0.ffn_up.weight").ByteSize;
            var bound = Math.Max(1, MatMul.Threads) * (RepackedWeights.ChunkBytes + 2 * Folio) + Folio;
            Assert.True(ffn > 1.5 * bound, $"the test needs matrices ({ffn} bytes) well above the bound ({bound})");
            Assert.True(ResidentProbe.Largest <= bound, $"the mapping held {ResidentProbe.Largest} bytes during the repack; a chunk per worker is {bound}");
        }
    }

    [Fact]
    public void Releasing_part_of_a_tensor_drops_the_pages_wholly_inside_it_and_keeps_the_bytes_readable()
    {
        if (!OperatingSystem.IsLinux())
            return;
        using var file = GgufFile.Open(Model.Value);
        var t = file.GetTensor("blk.0.ffn_gate.weight");
        var pointer = file.GetTensorPointer(t);
        var expected = file.GetTensorData(t).ToArray();   // every page resident now
        var before = ProcessMemory.ResidentBytesOfMapping(pointer);
        file.ReleaseTensorPages(t, 1 << 20, 1 << 20);
        var after = ProcessMemory.ResidentBytesOfMapping(pointer);
        // Tensor data is 32-byte aligned, not page aligned: 256 pages minus at most the one the range cuts at each end
        // (or more: a folio mapped whole is unmapped whole, and comes back on the next touch).
        Assert.True(before - after >= (1 << 20) - 2 * 4096, $"{before - after} bytes released");
        Assert.True(expected.AsSpan().SequenceEqual(file.GetTensorData(t)));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReleaseTensorPages(t, t.ByteSize - 10, 11));
        Assert.Throws<ArgumentOutOfRangeException>(() => file.ReleaseTensorPages(t, -1, 1));
    }
}

/// <summary>
/// An F16 layout (the reference one) whose <see cref="Pack"/> samples, about every 256 KiB of plain bytes, how much of
/// the model file's mapping is resident: what the loader holds at that instant of the repack.
/// </summary>
internal sealed class ResidentProbe : IInterleavedFormat
{
    private const long SampleEvery = 256 * 1024;

    public static readonly Lock Gate = new();
    public static readonly WeightLayout Layout = WeightLayout.Of<ResidentProbe>("F16x8-resident-probe");
    private static readonly Lock SampleLock = new();
    private static long _lastBucket;

    public static long Largest { get; private set; }

    public static int Samples { get; private set; }

    public static void Start()
    {
        Largest = 0;
        Samples = 0;
        _lastBucket = -1;
    }

    public static GgmlType Type => GgmlType.F16;

    public static int RowGroup => BlockInterleaved<F16>.RowGroup;

    public static long GroupBytes(int cols) => BlockInterleaved<F16>.GroupBytes(cols);

    public static unsafe void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        fixed (byte* p = plainRows)
        {
            var bucket = (long)p / SampleEvery;
            lock (SampleLock)
            {
                if (bucket != _lastBucket)
                {
                    _lastBucket = bucket;
                    Largest = Math.Max(Largest, ProcessMemory.ResidentBytesOfMapping((nint)p));
                    Samples++;
                }
            }
        }
        BlockInterleaved<F16>.Pack(plainRows, cols, group);
    }

    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows) => BlockInterleaved<F16>.Unpack(group, cols, plainRows);

    public static void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results) =>
        BlockInterleaved<F16>.Gemv(level, group, activation, cols, results);

    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride) =>
        BlockInterleaved<F16>.Gemm(level, group, activations, activationStride, count, cols, results, resultStride);
}
