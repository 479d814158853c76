using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Kernels;

/// <summary>
/// The one-thread load's helper: <see cref="ChunkPages"/> faults every chunk in exactly once, claimed before the
/// packer that needs it goes on, never more than <see cref="ChunkPages.Lead"/> chunks ahead of the packing and never
/// after <see cref="ChunkPages.Stop"/>; a repack with the helper writes the bytes one without it writes; and
/// <see cref="KernelWarmup"/> runs every layout's multiplication (its failures would otherwise pass unseen on the helper).
/// </summary>
[Collection(nameof(MatMulThreads))]
public sealed unsafe class ChunkPagesTests
{
    [Fact]
    public void Every_chunk_is_faulted_in_once_claimed_before_its_packer_goes_on_and_within_the_lead()
    {
        const int chunks = 200;
        const int chunkBytes = 64 << 10;
        var region = (byte*)NativeMemory.AlignedAlloc(chunks * chunkBytes, 4096);
        var source = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        try
        {
            var faults = new int[chunks];
            var packing = -1;
            var tooFarAhead = new ConcurrentBag<(int Chunk, int Packing)>();
            var pages = new ChunkPages(chunks, c =>
            {
                Interlocked.Increment(ref faults[c]);
                var at = Volatile.Read(ref packing);
                if (c > Math.Max(at, 0) + ChunkPages.Lead)
                    tooFarAhead.Add((c, at));
                return ((nint)(region + (long)c * chunkBytes), chunkBytes, (nint)source, 4096);
            }, backing: null);
            pages.StartHelper(() => Volatile.Read(ref packing));
            // Two packers claiming chunks in order, as RepackedWeights' workers do.
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ =>
            {
                int c;
                while ((c = Interlocked.Increment(ref packing)) < chunks)
                {
                    pages.Ensure(c);
                    // Claimed by now: faulted in by this packer, or by the helper, which may still be at it.
                    Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref faults[c]) == 1, 5000), $"chunk {c} was not claimed");
                    new Span<byte>(region + (long)c * chunkBytes, chunkBytes).Fill((byte)c);
                }
            });
            pages.Stop();
            var after = faults.Sum();
            Thread.Sleep(20);
            Assert.Equal(after, faults.Sum());
            Assert.All(faults, f => Assert.Equal(1, f));
            Assert.Empty(tooFarAhead);
        }
        finally
        {
            NativeMemory.AlignedFree(region);
            NativeMemory.AlignedFree(source);
        }
    }

    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void A_one_thread_repack_with_the_helper_writes_the_bytes_one_without_it_writes(GgmlType type)
    {
        const int rows = 2048, cols = 2048;   // a few 1 MiB chunks
        var rowBytes = (int)GgmlTypes.Get(type).RowBytes(cols);
        var plain = GC.AllocateArray<byte>(rows * rowBytes, pinned: true);
        new Random(5).NextBytes(plain);
        // Finite fp16 scales are not needed: packing only moves bits.
        var matrix = new WeightMatrix(type, Marshal.UnsafeAddrOfPinnedArrayElement(plain, 0), rows, cols);
        var before = MatMul.Threads;
        try
        {
            MatMul.Threads = 1;
            IdleCores.IgnoreOtherWork = true;
            RepackedWeights.PopulateAhead = false;
            using var alone = new RepackedWeights();
            var expected = alone.Repack(in matrix);
            RepackedWeights.PopulateAhead = true;
            using var helped = new RepackedWeights();
            var actual = helped.Repack(in matrix);
            Assert.NotNull(actual.Layout);
            Assert.True(new ReadOnlySpan<byte>((void*)expected.Data, checked((int)expected.ByteSize))
                .SequenceEqual(new ReadOnlySpan<byte>((void*)actual.Data, checked((int)actual.ByteSize))));
        }
        finally
        {
            RepackedWeights.PopulateAhead = true;
            IdleCores.IgnoreOtherWork = false;
            MatMul.Threads = before;
        }
    }

    [Fact]
    public void A_core_is_idle_beside_the_threads_only_while_fewer_threads_than_processors_multiply()
    {
        var before = MatMul.Threads;
        try
        {
            IdleCores.IgnoreOtherWork = true;
            MatMul.Threads = Environment.ProcessorCount;
            Assert.False(IdleCores.OneBesideTheThreads());
            if (Environment.ProcessorCount > 1)
            {
                MatMul.Threads = Environment.ProcessorCount - 1;
                Assert.True(IdleCores.OneBesideTheThreads());
            }
        }
        finally
        {
            IdleCores.IgnoreOtherWork = false;
            MatMul.Threads = before;
        }
    }

    [Fact]
    public void The_warm_up_multiplies_every_layout_and_plain_formats_without_failing()
    {
        var kinds = InterleavedLayouts.All.Select(l => (l.Type, (WeightLayout?)l))
            .Concat([(GgmlType.Q4_K, null), (GgmlType.Q8_0, null), (GgmlType.F16, null), (GgmlType.F32, null)]);
        KernelWarmup.Run(kinds);
    }
}
