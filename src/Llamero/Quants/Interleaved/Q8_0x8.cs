using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Q8_0 weights, eight rows stored together so that one 256-bit register holds four quants of each of the eight rows
/// and the kernels keep one float lane per row (no horizontal sums). For every 32-element block k of the rows, in order:
/// <code>
///   bytes   0..15   d of rows 0..7 (fp16 each, as stored in the plain blocks)
///   bytes  16..271  eight slices s = 0..7 of 32 bytes: quants 4s..4s+3 of row 0, then of row 1, ... row 7
/// </code>
/// 272 bytes per block of eight rows, exactly the eight plain blocks (8 × 34): nothing is re-encoded, so
/// <see cref="Unpack"/> is a plain shuffle back. Against one activation block, slice s of the weights meets activation
/// quants 4s..4s+3 broadcast to every lane: AVX2 multiplies them with maddubs (the sign trick: |w| times a with w's
/// sign) and sums each lane's four products into an int32, so eight maddubs/madd pairs give the eight rows' block sums,
/// then one FMA scales them by d_w (one lane per row) times d_a. A prompt tile (<see cref="Gemm"/>) runs four activation
/// rows per pass, each weight load and |w| serving all four.
/// </summary>
internal sealed partial class Q8_0x8 : IInterleavedFormat
{
    private const int Rows = 8;
    private const int BlockSize = Q8_0.BlockSize;
    // One plain Q8_0 block: fp16 d then 32 quants.
    private const int PlainBlockBytes = 2 + BlockSize;
    // Per interleaved block: the eight scales, then eight slices of 4 quants × 8 rows.
    private const int ScaleBytes = 2 * Rows;
    private const int SliceBytes = 4 * Rows;
    private const int Slices = BlockSize / 4;
    private const int PackedBlockBytes = ScaleBytes + Slices * SliceBytes;

    // The kernels read d_a through Fp16's table, a static readonly pointer that the JIT compiles in as a constant only
    // if Fp16 is initialized before they are compiled; otherwise the hot loops carry an initialization check whose
    // helper call makes the JIT spill every vector register around it (a 1.7x slower prompt tile).
    static Q8_0x8() => RuntimeHelpers.RunClassConstructor(typeof(Fp16).TypeHandle);

    /// <inheritdoc/>
    public static GgmlType Type => GgmlType.Q8_0;

    /// <inheritdoc/>
    public static int RowGroup => Rows;

    /// <inheritdoc cref="IInterleavedFormat.GroupBytes"/>
    public static long GroupBytes(int cols) => (long)Blocks(cols) * PackedBlockBytes;

    /// <inheritdoc cref="IInterleavedFormat.Pack"/>
    public static void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        var (blocks, rowBytes) = CheckGroup(group.Length, cols);
        CheckLength(plainRows.Length, Rows * rowBytes, "plain rows");
        PackBlocks(SimdPath.Current, ref MemoryMarshal.GetReference(plainRows), rowBytes, blocks, ref MemoryMarshal.GetReference(group));
    }

    /// <inheritdoc cref="IInterleavedFormat.Unpack"/>
    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows)
    {
        var (blocks, rowBytes) = CheckGroup(group.Length, cols);
        CheckLength(plainRows.Length, Rows * rowBytes, "plain rows");
        for (var r = 0; r < Rows; r++)
            for (var k = 0; k < blocks; k++)
            {
                var plain = plainRows.Slice(r * rowBytes + k * PlainBlockBytes, PlainBlockBytes);
                var packed = group.Slice(k * PackedBlockBytes, PackedBlockBytes);
                packed.Slice(2 * r, 2).CopyTo(plain);
                for (var s = 0; s < Slices; s++)
                    packed.Slice(ScaleBytes + s * SliceBytes + 4 * r, 4).CopyTo(plain[(2 + 4 * s)..]);
            }
    }

    /// <inheritdoc cref="IInterleavedFormat.Gemv"/>
    public static unsafe void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results)
    {
        var (blocks, rowBytes) = CheckGroup(group.Length, cols);
        CheckLength(activation.Length, rowBytes, "activation row");
        CheckLength(results.Length, Rows, "results");
        fixed (byte* w = group)
        fixed (byte* a = activation)
        fixed (float* y = results)
            GemvOn(level, w, a, blocks, y, false);
    }

    /// <inheritdoc cref="IInterleavedFormat.Gemm"/>
    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count,
        int cols, Span<float> results, int resultStride) =>
        GemmRange(level, group, activations, activationStride, count, cols, results, resultStride, default, RowRange.Whole);

    /// <inheritdoc cref="IInterleavedFormat.HasGemmRange"/>
    public static bool HasGemmRange => true;

    // GemmCarry stays 0: one float accumulator per row, which between ranges is the result itself.
    /// <inheritdoc cref="IInterleavedFormat.GemmRange"/>
    public static unsafe void GemmRange(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count,
        int cols, Span<float> results, int resultStride, Span<float> carry, RowRange range)
    {
        var resume = (range & RowRange.First) == 0;
        var blocks = CheckGemm(group.Length, activations.Length, activationStride, count, cols, results.Length, resultStride);
        fixed (byte* w = group)
        fixed (byte* a = activations)
        fixed (float* y = results)
        {
            if (Avx512Kernels.RunGemm(level))
            {
                Avx512Gemm<Avx512Hardware>(w, a, activationStride, count, blocks, y, resultStride, resume);
                return;
            }
            if (Avx2Path(level))
            {
                Avx2Gemm(w, a, activationStride, count, blocks, y, resultStride, resume);
                return;
            }
            var b = 0;
            for (; b + 4 <= count && level != SimdLevel.Scalar; b += 4)
            {
                var a4 = a + (long)b * activationStride;
                var y4 = y + (long)b * resultStride;
                if (level == SimdLevel.Vector256)
                    Vector256Gemm4(w, a4, activationStride, blocks, y4, resultStride, resume);
                else
                    Vector128Gemm4(w, a4, activationStride, blocks, y4, resultStride, resume);
            }
            // The rest one row at a time, by the very steps Gemv takes (so every row is bit-identical to it).
            for (; b < count; b++)
                GemvOn(level, w, a + (long)b * activationStride, blocks, y + (long)b * resultStride, resume);
        }
    }

    // One activation row on the level's path, from zero or, when resuming a ranged Gemm, from the results.
    private static unsafe void GemvOn(SimdLevel level, byte* w, byte* a, int blocks, float* y, bool resume)
    {
        if (Avx2Path(level))
            Avx2Gemv(w, a, blocks, y, resume);
        else if (level == SimdLevel.Vector256)
            Vector256Gemv(w, a, blocks, y, resume);
        else if (level == SimdLevel.Vector128)
            Vector128Gemv(w, a, blocks, y, resume);
        else
            ScalarGemv(w, a, blocks, y, resume);
    }

    // Gemv at AVX-512 runs AVX2's kernel (every AVX-512 CPU has AVX2 and FMA); Gemm has its own (Q8_0x8.Avx512.cs).
    private static bool Avx2Path(SimdLevel level) => level >= SimdLevel.Avx2;

    /// <summary>The specification: per row, each block's exact integer sum times d_w·d_a, added with an FMA as
    /// <see cref="Q8_0.DotReference"/> does, so this path gives its results bit for bit.</summary>
    private static unsafe void ScalarGemv(byte* w, byte* a, int blocks, float* y, bool resume)
    {
        Span<float> sums = stackalloc float[Rows];
        for (var j = 0; j < Rows; j++)
            sums[j] = resume ? y[j] : 0;
        for (var k = 0; k < blocks; k++, w += PackedBlockBytes, a += PlainBlockBytes)
        {
            var da = Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(a));
            var qa = (sbyte*)(a + 2);
            for (var j = 0; j < Rows; j++)
            {
                var sumi = 0;
                for (var s = 0; s < Slices; s++)
                {
                    var qw = (sbyte*)(w + ScaleBytes + s * SliceBytes + 4 * j);
                    for (var t = 0; t < 4; t++)
                        sumi += qw[t] * qa[4 * s + t];
                }
                var dw = Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(w + 2 * j));
                sums[j] = MathF.FusedMultiplyAdd(sumi, dw * da, sums[j]);
            }
        }
        for (var j = 0; j < Rows; j++)
            y[j] = sums[j];
    }

    /// <summary>Validates a (ranged) Gemm's spans and returns the blocks per row.</summary>
    private static int CheckGemm(int groupLength, int activationLength, int activationStride, int count, int cols, int resultLength, int resultStride)
    {
        var (blocks, rowBytes) = CheckGroup(groupLength, cols);
        if (count < 1 || (count > 1 && (activationStride < rowBytes || resultStride < Rows)))
            throw new ArgumentException($"Q8_0x8 Gemm: {count} activation rows {activationStride} bytes apart (a row is {rowBytes}), " +
                $"results {resultStride} floats apart (a group is {Rows}).");
        CheckLength(activationLength, (long)(count - 1) * activationStride + rowBytes, "activations");
        CheckLength(resultLength, (long)(count - 1) * resultStride + Rows, "results");
        return blocks;
    }

    private static int Blocks(int cols) => BlockRows.Count(cols, BlockSize, GgmlType.Q8_0);

    /// <summary>Blocks per row and the bytes of one plain row, after checking that <paramref name="groupBytes"/> holds a group.</summary>
    private static (int Blocks, int RowBytes) CheckGroup(int groupBytes, int cols)
    {
        var blocks = Blocks(cols);
        CheckLength(groupBytes, (long)blocks * PackedBlockBytes, "group");
        return (blocks, blocks * PlainBlockBytes);
    }

    private static void CheckLength(long actual, long needed, string what)
    {
        if (actual < needed)
            ThrowTooShort(actual, needed, what);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooShort(long actual, long needed, string what) =>
        throw new ArgumentException($"Q8_0x8: {what} of {actual} elements, {needed} needed.");
}
