using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Q4_0 weights repacked eight rows at a time (llama.cpp's block_q4_0x8 idea, in a byte order of our own). For each
/// 32-element block k the group holds one 144-byte group block:
/// <code>
///   bytes  0..15   d of rows 0..7 (fp16, as stored)
///   bytes 16..143  four 32-byte chunks; chunk c holds nibble bytes 4c..4c+3 of every row, row r at bytes 4r..4r+3
/// </code>
/// A chunk's low nibbles are elements 4c..4c+3 of the eight rows and its high nibbles elements 16+4c..16+4c+3, so one
/// 256-bit load multiplied by one broadcast 4-byte slice of the activation block gives each row a 32-bit lane of its
/// own: the kernels keep one float lane per row and need no horizontal sums. Nibbles stay unsigned (w = d·(q − 8)):
/// the fast kernels multiply q·a and subtract 8·Σa once per block, exact in integers. Each row's float sum follows
/// llama.cpp's repacked kernels: acc += float(Σ(q − 8)·a)·(d_w·d_a), one fused multiply-add per block, blocks in
/// order, so every path (and llama.cpp's) gives the same bits.
/// </summary>
internal sealed partial class Q4_0x8 : IInterleavedFormat
{
    private const int BlockSize = Q4_0.BlockSize;
    private const int Rows = 8;
    private const int PlainBlockBytes = 18;
    private const int ScaleBytes = 2 * Rows;
    private const int ChunkBytes = 4 * Rows;
    private const int Chunks = 4;
    private const int GroupBlockBytes = ScaleBytes + Chunks * ChunkBytes;
    // A Q8_0 activation block: fp16 d, then 32 signed bytes.
    private const int ActivationBlockBytes = 34;
    private const int ActivationQuants = 2;

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.Q4_0;

    /// <inheritdoc />
    public static int RowGroup => Rows;

    /// <inheritdoc />
    public static long GroupBytes(int cols) => (long)Blocks(cols) * GroupBlockBytes;

    /// <inheritdoc />
    public static void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group) => Pack(SimdPath.Current, plainRows, cols, group);

    /// <summary>
    /// <see cref="Pack(ReadOnlySpan{byte}, int, Span{byte})"/> on <paramref name="level"/>'s path: with AVX2 each block's
    /// quants move as one 4 x 4 transpose per half (<see cref="RowPieces"/>), else word by word (the same bytes).
    /// </summary>
    internal static void Pack(SimdLevel level, ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        if (level < SimdLevel.Avx2)
        {
            Shuffle<Packing>(plainRows, cols, group);
            return;
        }
        var (blocks, rowBytes) = CheckShuffle(plainRows.Length, group.Length, cols);
        ref var plain = ref MemoryMarshal.GetReference(plainRows);
        ref var packed = ref MemoryMarshal.GetReference(group);
        for (var k = 0; k < blocks; k++)
        {
            ref var block = ref Unsafe.Add(ref packed, k * GroupBlockBytes);
            ref var first = ref Unsafe.Add(ref plain, k * PlainBlockBytes);
            RowPieces.Words(ref first, rowBytes, ref block);
            RowPieces.Interleave(true, ref Unsafe.Add(ref first, 2), rowBytes, Chunks, ref Unsafe.Add(ref block, ScaleBytes));
        }
    }

    /// <inheritdoc />
    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows) => Shuffle<Unpacking>(group, cols, plainRows);

    // Pack copies plain (row r, block k) pieces to their group places; unpack copies them back. Whole scalars through
    // refs: the loader packs whole models through here (span slices ran at 0.4 GB/s).
    // Specialised per direction (a struct type argument), so every move is a plain load and store.
    private static void Shuffle<TDirection>(ReadOnlySpan<byte> source, int cols, Span<byte> destination)
        where TDirection : struct, IShuffleDirection
    {
        var pack = TDirection.Pack;
        var (blocks, rowBytes) = pack ? CheckShuffle(source.Length, destination.Length, cols) : CheckShuffle(destination.Length, source.Length, cols);
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        for (var k = 0; k < blocks; k++)
            for (var r = 0; r < Rows; r++)
            {
                var plain = r * rowBytes + k * PlainBlockBytes;
                var packed = k * GroupBlockBytes;
                IShuffleDirection.Move<ushort, TDirection>(ref from, ref to, plain, packed + 2 * r);
                for (var c = 0; c < Chunks; c++)
                    IShuffleDirection.Move<uint, TDirection>(ref from, ref to, plain + 2 + 4 * c, packed + ScaleBytes + c * ChunkBytes + 4 * r);
            }
    }

    // The blocks per row and the plain bytes per row, once the plain rows and the group are long enough for them.
    private static (int Blocks, int RowBytes) CheckShuffle(int plainLength, int groupLength, int cols)
    {
        var blocks = Blocks(cols);
        var rowBytes = blocks * PlainBlockBytes;
        if (plainLength < Rows * rowBytes || groupLength < blocks * GroupBlockBytes)
            throw new ArgumentException(
                $"Q4_0x8: {Rows} rows of {cols} elements need {Rows * rowBytes} plain bytes and {blocks * GroupBlockBytes} group bytes; got " +
                $"{plainLength} and {groupLength}.");
        return (blocks, rowBytes);
    }

    /// <inheritdoc />
    public static void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results)
    {
        var blocks = Blocks(cols);
        if (group.Length < blocks * GroupBlockBytes || activation.Length < blocks * ActivationBlockBytes || results.Length < Rows)
            ThrowSizes(group.Length, activation.Length, 1, activation.Length, results.Length, 1, cols);
        GemvOn(level, group, activation, blocks, results, resume: false);
    }

    /// <summary>One activation row on the <paramref name="level"/> path (sizes checked), from zero or, when <paramref name="resume"/>
    /// (a later range of <see cref="GemmRange"/>), from the results.</summary>
    private static void GemvOn(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int blocks, Span<float> results, bool resume)
    {
        ref var g = ref MemoryMarshal.GetReference(group);
        ref var a = ref MemoryMarshal.GetReference(activation);
        ref var y = ref MemoryMarshal.GetReference(results);
        switch (level)
        {
            case SimdLevel.Avx512 or SimdLevel.Avx2:
                GemvAvx2(ref g, ref a, blocks, ref y, resume);
                break;
            case SimdLevel.Vector256:
                GemvVector256(ref g, ref a, blocks, ref y, resume);
                break;
            case SimdLevel.Vector128:
                GemvVector128(ref g, ref a, blocks, ref y, resume);
                break;
            default:
                GemvScalar(group, activation, blocks, results, resume);
                break;
        }
    }

    /// <inheritdoc />
    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride) =>
        GemmRange(level, group, activations, activationStride, count, cols, results, resultStride, default, RowRange.Whole);

    /// <inheritdoc />
    public static bool HasGemmRange => true;

    /// <summary>Validates a (ranged) Gemm's spans and returns the blocks per row.</summary>
    private static int CheckGemm(int groupLength, int activationLength, int activationStride, int count, int cols, int resultLength, int resultStride)
    {
        var blocks = Blocks(cols);
        var rowBytes = blocks * ActivationBlockBytes;
        if (count < 1 || activationStride < rowBytes || resultStride < Rows || groupLength < blocks * GroupBlockBytes
            || (long)(count - 1) * activationStride + rowBytes > activationLength || (long)(count - 1) * resultStride + Rows > resultLength)
            ThrowSizes(groupLength, activationLength, count, activationStride, resultLength, resultStride, cols);
        return blocks;
    }

    // GemmCarry stays 0: one float accumulator per row, which between ranges is the result itself.
    /// <inheritdoc />
    public static void GemmRange(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range)
    {
        var blocks = CheckGemm(group.Length, activations.Length, activationStride, count, cols, results.Length, resultStride);
        var rowBytes = blocks * ActivationBlockBytes;
        var resume = (range & RowRange.First) == 0;
        if (Avx512Kernels.RunGemm(level))
        {
            GemmAvx512<Avx512Hardware>(ref MemoryMarshal.GetReference(group), ref MemoryMarshal.GetReference(activations), activationStride, count, blocks,
                ref MemoryMarshal.GetReference(results), resultStride, resume);
            return;
        }
        if (level is SimdLevel.Avx512 or SimdLevel.Avx2)
        {
            GemmAvx2(ref MemoryMarshal.GetReference(group), ref MemoryMarshal.GetReference(activations), activationStride, count, blocks,
                ref MemoryMarshal.GetReference(results), resultStride, resume);
            return;
        }
        // The other paths run each row alone: the same steps, so the same bits.
        for (var b = 0; b < count; b++)
            GemvOn(level, group, activations.Slice(b * activationStride, rowBytes), blocks, results.Slice(b * resultStride, Rows), resume);
    }

    /// <summary>The specification: per row and block, the exact integer sum Σ(q − 8)·a, then one fused multiply-add.</summary>
    private static void GemvScalar(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int blocks, Span<float> results, bool resume)
    {
        Span<float> acc = stackalloc float[Rows];
        if (resume)
            results[..Rows].CopyTo(acc);
        else
            acc.Clear();
        for (var k = 0; k < blocks; k++)
        {
            var g = group.Slice(k * GroupBlockBytes, GroupBlockBytes);
            var a = activation.Slice(k * ActivationBlockBytes, ActivationBlockBytes);
            var da = Fp16.ToFloat(Read16(a, 0));
            for (var r = 0; r < Rows; r++)
            {
                var sumi = 0;
                for (var c = 0; c < Chunks; c++)
                    for (var i = 0; i < 4; i++)
                    {
                        var q = g[ScaleBytes + c * ChunkBytes + 4 * r + i];
                        sumi += ((q & 0x0F) - 8) * (sbyte)a[ActivationQuants + 4 * c + i]
                            + ((q >> 4) - 8) * (sbyte)a[ActivationQuants + BlockSize / 2 + 4 * c + i];
                    }
                acc[r] = MathF.FusedMultiplyAdd(sumi, Fp16.ToFloat(Read16(g, 2 * r)) * da, acc[r]);
            }
        }
        acc.CopyTo(results);
    }

    private static ushort Read16(ReadOnlySpan<byte> bytes, int offset) => (ushort)(bytes[offset] | bytes[offset + 1] << 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Blocks(int cols) =>
        cols > 0 && cols % BlockSize == 0 ? cols / BlockSize : throw new ArgumentException($"Q4_0x8: a row of {cols} elements is not a whole number of Q4_0 blocks.");

    private static void ThrowSizes(int group, int activations, int count, int stride, int results, int resultStride, int cols) =>
        throw new ArgumentException(
            $"Q4_0x8: {count} activation rows of {cols} elements at stride {stride} ({activations} bytes), a group of {group} bytes and " +
            $"results at stride {resultStride} ({results} floats) do not fit.");
}
