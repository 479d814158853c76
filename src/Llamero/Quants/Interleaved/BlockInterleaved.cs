using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// The plainest interleaved layout, for any format: block k of rows 0..7, then block k+1 of rows 0..7, and so on,
/// each block as stored. Its kernels call the format's own block dot, one block at a time, so it is the reference
/// the fast layouts are checked beside and a layout the plumbing tests can force on any format; it is never chosen
/// for speed (<see cref="InterleavedLayouts.Default"/> does not list it). Any level but scalar runs the format's
/// current <see cref="IQuantFormat.Dot"/>.
/// </summary>
internal sealed class BlockInterleaved<T> : IInterleavedFormat
    where T : IQuantFormat
{
    private static readonly GgmlTypeTraits Traits = GgmlTypes.Get(T.Type);
    private static readonly GgmlTypeTraits PartnerTraits = GgmlTypes.Get(T.DotPartner);

    public static GgmlType Type => T.Type;
    public static int RowGroup => 8;

    public static long GroupBytes(int cols) => RowGroup * Traits.RowBytes(cols);

    public static void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group) => Shuffle(plainRows, cols, group, pack: true);

    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows) => Shuffle(group, cols, plainRows, pack: false);

    // Pack: plain (row r, block k) -> packed (block k, row r); unpack the other way.
    private static void Shuffle(ReadOnlySpan<byte> source, int cols, Span<byte> destination, bool pack)
    {
        var blocks = cols / Traits.BlockSize;
        var blockBytes = Traits.BytesPerBlock;
        var rowBytes = blocks * blockBytes;
        for (var r = 0; r < RowGroup; r++)
            for (var k = 0; k < blocks; k++)
            {
                var plain = r * rowBytes + k * blockBytes;
                var packed = (k * RowGroup + r) * blockBytes;
                source.Slice(pack ? plain : packed, blockBytes).CopyTo(destination.Slice(pack ? packed : plain, blockBytes));
            }
    }

    public static void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results)
    {
        var blocks = cols / Traits.BlockSize;
        var blockBytes = Traits.BytesPerBlock;
        var partnerBytes = PartnerTraits.RowBytes(Traits.BlockSize);
        Span<float> sums = stackalloc float[RowGroup];
        sums.Clear();
        for (var k = 0; k < blocks; k++)
        {
            var a = activation.Slice((int)(k * partnerBytes), (int)partnerBytes);
            for (var r = 0; r < RowGroup; r++)
                            {
                var block = group.Slice((k * RowGroup + r) * blockBytes, blockBytes);
                sums[r] += level == SimdLevel.Scalar ? T.DotReference(block, a, Traits.BlockSize) : T.Dot(block, a, Traits.BlockSize);
            }
        }
        sums.CopyTo(results);
    }

    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride)
    {
        var rowBytes = (int)PartnerTraits.RowBytes(cols);
        for (var b = 0; b < count; b++)
            Gemv(level, group, activations.Slice(b * activationStride, rowBytes), cols, results.Slice(b * resultStride, RowGroup));
    }
}
