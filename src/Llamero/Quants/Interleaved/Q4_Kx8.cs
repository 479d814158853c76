using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Q4_K rows interleaved eight at a time (llama.cpp's block_q4_Kx8 idea, our own arrangement). A packed super-block
/// holds the same super-block (256 weights) of all eight rows in 1152 bytes, exactly 8 plain blocks:
/// <code>
///   0    d[8]       fp16, row r at 2r
///   16   dmin[8]    fp16
///   32   scales     the 12 packed 6-bit scale/min bytes, byte-major: byte b of row r at 32 + 8b + r
///   128  qs         for chunk c (64 weights) and unit u (4 bytes): the plain bytes 32c + 4u .. +3 of rows 0..7,
///                   row r at 128 + 256c + 32u + 4r
/// </code>
/// so one 32-byte load of qs is four plain bytes of every row: its low nibbles are weights 64c + 4u .. +3 of
/// sub-block 2c and its high nibbles the same positions of sub-block 2c + 1 (the plain pairing). Against one
/// broadcast 4-byte activation run, maddubs + madd give one int32 lane per row, and the eight rows stay in the eight
/// float lanes of one vector to the end. Nothing is re-encoded, so <see cref="Unpack"/> is a pure byte permutation.
/// </summary>
/// <remarks>
/// Float steps per row and super-block (every path, so all paths and Gemm/Gemv agree bit for bit):
/// <c>acc = fma(sumi, d·dy, acc)</c>, <c>accMin = fma(Σ min·bsum, dmin·dy, accMin)</c>, result <c>acc − accMin</c>
/// (llama.cpp's repacked kernel order); sumi = Σ_j scale_j · Σ q·a is exact in int32.
/// </remarks>
internal sealed partial class Q4_Kx8 : IInterleavedFormat
{
    private const int Rows = 8;
    private const int PlainBlockBytes = Q4_K.BlockBytes;

    /// <summary>Bytes of one packed super-block of eight rows.</summary>
    internal const int BlockBytes = Rows * PlainBlockBytes;

    private const int DOffset = 0;
    private const int DMinOffset = 16;
    private const int ScalesOffset = 32;
    private const int QsOffset = 128;

    // Offsets inside a plain Q4_K block.
    private const int PlainScales = 4;
    private const int PlainQs = 16;

    public static GgmlType Type => GgmlType.Q4_K;
    public static int RowGroup => Rows;

    public static long GroupBytes(int cols) => (long)Blocks(cols) * BlockBytes;

    // Small enough to inline into every Gemv call (a generation step makes one per group of eight rows): the throw is elsewhere.
    private static int Blocks(int cols) => cols > 0 && cols % QK_K == 0 ? cols / QK_K : ThrowColumns(cols);

    [DoesNotReturn]
    private static int ThrowColumns(int cols) => throw new ArgumentException($"Q4_Kx8: a row of {cols} is not whole super-blocks of {QK_K}.");

    private const int QK_K = 256;

    public static void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group) => Pack(SimdPath.Current, plainRows, cols, group);

    /// <summary>
    /// <see cref="Pack(ReadOnlySpan{byte}, int, Span{byte})"/> on <paramref name="level"/>'s path: with AVX2 the quants
    /// move four words of every row at a time (<see cref="RowPieces"/>), else word by word (the same bytes).
    /// </summary>
    internal static void Pack(SimdLevel level, ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        if (level < SimdLevel.Avx2)
        {
            Shuffle<Packing>(plainRows, cols, group);
            return;
        }
        var (blocks, rowBytes) = CheckShuffle(cols, plainRows.Length, group.Length);
        ref var plain = ref MemoryMarshal.GetReference(plainRows);
        ref var packed = ref MemoryMarshal.GetReference(group);
        for (var i = 0; i < blocks; i++)
        {
            ref var block = ref Unsafe.Add(ref packed, i * BlockBytes);
            ref var first = ref Unsafe.Add(ref plain, i * PlainBlockBytes);
            RowPieces.Words(ref first, rowBytes, ref Unsafe.Add(ref block, DOffset));
            RowPieces.Words(ref Unsafe.Add(ref first, 2), rowBytes, ref Unsafe.Add(ref block, DMinOffset));
            for (var r = 0; r < Rows; r++)
            {
                ref var scales = ref Unsafe.Add(ref first, r * rowBytes + PlainScales);
                for (var b = 0; b < 12; b++)
                    Unsafe.Add(ref block, ScalesOffset + 8 * b + r) = Unsafe.Add(ref scales, b);
            }
            RowPieces.Interleave(true, ref Unsafe.Add(ref first, PlainQs), rowBytes, 32, ref Unsafe.Add(ref block, QsOffset));
        }
    }

    // The super-blocks per row and the plain bytes per row, once both sides are long enough for them.
    private static (int Blocks, int RowBytes) CheckShuffle(int cols, int plainLength, int groupLength)
    {
        var blocks = Blocks(cols);
        var total = blocks * BlockBytes;
        if (plainLength < total || groupLength < total)
            throw new ArgumentException($"Q4_Kx8: {cols} columns need {total} bytes of plain rows and of group; got {plainLength} and {groupLength}.");
        return (blocks, blocks * PlainBlockBytes);
    }

    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows) => Shuffle<Unpacking>(group, cols, plainRows);

    /// <summary>Moves every byte between its plain position (row r, block i) and its packed one; <typeparamref name="TDirection"/> picks the
    /// direction. Whole scalars through refs (the loader packs whole models through here: span slices ran at 0.6 GB/s).</summary>
    // Specialised per direction (a struct type argument), so every move is a plain load and store.
    private static void Shuffle<TDirection>(ReadOnlySpan<byte> source, int cols, Span<byte> destination)
        where TDirection : struct, IShuffleDirection
    {
        var (blocks, rowBytes) = TDirection.Pack ? CheckShuffle(cols, source.Length, destination.Length) : CheckShuffle(cols, destination.Length, source.Length);
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        for (var i = 0; i < blocks; i++)
        {
            var packedBlock = i * BlockBytes;
            for (var r = 0; r < Rows; r++)
            {
                var plainBlock = r * rowBytes + i * PlainBlockBytes;
                IShuffleDirection.Move<ushort, TDirection>(ref from, ref to, plainBlock, packedBlock + DOffset + 2 * r);
                IShuffleDirection.Move<ushort, TDirection>(ref from, ref to, plainBlock + 2, packedBlock + DMinOffset + 2 * r);
                for (var b = 0; b < 12; b++)
                    IShuffleDirection.Move<byte, TDirection>(ref from, ref to, plainBlock + PlainScales + b, packedBlock + ScalesOffset + 8 * b + r);
                // Quant word q (bytes 4q..4q+3 of the row's 128) sits in the q-th 32-byte run, at the row's 4 bytes.
                for (var q = 0; q < 32; q++)
                    IShuffleDirection.Move<uint, TDirection>(ref from, ref to, plainBlock + PlainQs + 4 * q, packedBlock + QsOffset + 32 * q + 4 * r);
            }
        }
    }

    public static void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results)
    {
        var blocks = Check(group, activation, Q8_K.BlockBytes * Blocks(cols), 1, cols, results, Rows);
        ref var w = ref MemoryMarshal.GetReference(group);
        ref var a = ref MemoryMarshal.GetReference(activation);
        ref var y = ref MemoryMarshal.GetReference(results);
        switch (KQuantHelpers.Kernel(level))
        {
            case KernelKind.Avx512 or KernelKind.Avx2:
                GemvAvx2(ref w, ref a, blocks, ref y);
                break;
            case KernelKind.Vector256 or KernelKind.Vector128:
                RowsGeneric(true, ref w, ref a, 0, 1, blocks, ref y, 0, ref y, RowRange.Whole);
                break;
            default:
                RowsGeneric(false, ref w, ref a, 0, 1, blocks, ref y, 0, ref y, RowRange.Whole);
                break;
        }
    }

    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride) =>
        GemmRange(level, group, activations, activationStride, count, cols, results, resultStride, default, RowRange.Whole);

    public static bool HasGemmRange => true;

    /// <summary>Between ranges the results hold each row's <c>acc</c> and the carry its <c>accMin</c> (row j of activation row b at 8b + j).</summary>
    public static int GemmCarry => Rows;

    public static void GemmRange(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride, Span<float> carry, RowRange range)
    {
        var blocks = Check(group, activations, activationStride, count, cols, results, resultStride, carry, range);
        if (count == 0)
            return;
        ref var w = ref MemoryMarshal.GetReference(group);
        ref var a = ref MemoryMarshal.GetReference(activations);
        ref var y = ref MemoryMarshal.GetReference(results);
        ref var c = ref MemoryMarshal.GetReference(carry);
        var kernel = KQuantHelpers.Kernel(level);
        if (Avx512Kernels.RunGemm(level))
        {
            GemmAvx512<Avx512Hardware>(ref w, ref a, activationStride, count, blocks, ref y, resultStride, ref c, range);
            return;
        }
        if (kernel is KernelKind.Avx512 or KernelKind.Avx2)
        {
            GemmAvx2(ref w, ref a, activationStride, count, blocks, ref y, resultStride, ref c, range);
            return;
        }
        RowsGeneric(kernel != KernelKind.Scalar, ref w, ref a, activationStride, count, blocks, ref y, resultStride, ref c, range);
    }

    /// <summary>Validates the spans of a (ranged) Gemm, the carry included, and returns the super-blocks per row.</summary>
    private static int Check(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        ReadOnlySpan<float> results, int resultStride, ReadOnlySpan<float> carry, RowRange range)
    {
        var blocks = Check(group, activations, activationStride, count, cols, results, resultStride);
        if (count > 0 && range != RowRange.Whole && carry.Length < count * Rows)
            throw new ArgumentException($"Q4_Kx8: a ranged Gemm of {count} activation row(s) carries {count * Rows} floats; got {carry.Length}.");
        return blocks;
    }

    /// <summary>Validates the spans (whole super-blocks, room for every row and result) and returns the super-blocks per row.</summary>
    private static int Check(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        ReadOnlySpan<float> results, int resultStride)
    {
        var blocks = Blocks(cols);
        var actBytes = (long)blocks * Q8_K.BlockBytes;
        if (count < 0 || group.Length < (long)blocks * BlockBytes
            || (count > 0 && (activationStride < actBytes || activations.Length < (long)(count - 1) * activationStride + actBytes
                              || resultStride < Rows || results.Length < (long)(count - 1) * resultStride + Rows)))
            throw new ArgumentException(
                $"Q4_Kx8: {count} activation row(s) of {cols} (stride {activationStride}, {activations.Length} bytes) against a group of {group.Length} bytes " +
                $"do not fit, or {results.Length} results (stride {resultStride}) are too few.");
        return blocks;
    }

    /// <summary>Activation rows the scalar and portable kernels take per pass over a super-block (its scales unpacked once for all).</summary>
    private const int GenericRows = 4;

    /// <summary>
    /// The specification (<paramref name="vector"/> false) and the portable path: per super-block, each row's exact
    /// int32 sums (sumi = Σ_j scale_j·Σ q·a and Σ_j min_j·bsums) and the float steps of the class remarks, for
    /// <paramref name="count"/> activation rows <paramref name="stride"/> bytes apart, up to <see cref="GenericRows"/>
    /// at a time. The scale and min of sub-block j come from the row's 12 packed bytes as in plain Q4_K. The accumulators
    /// start at zero or resume from <paramref name="y"/> and <paramref name="carry"/> (<see cref="GemmRange"/>).
    /// </summary>
    private static void RowsGeneric(bool vector, ref byte w, ref byte a, nint stride, int count, int blocks, ref float y, nint yStride,
        ref float carry, RowRange range)
    {
        Span<float> acc = stackalloc float[GenericRows * Rows];
        Span<float> accMin = stackalloc float[GenericRows * Rows];
        Span<int> sumi = stackalloc int[GenericRows * Rows];
        Span<byte> scales = stackalloc byte[2 * 8 * Rows];
        for (var b0 = 0; b0 < count; b0 += GenericRows)
        {
            var n = Math.Min(GenericRows, count - b0);
            ref var a0 = ref Unsafe.Add(ref a, b0 * stride);
            if ((range & RowRange.First) != 0)
            {
                acc.Clear();
                accMin.Clear();
            }
            else
            {
                for (var b = 0; b < n; b++)
                    for (var r = 0; r < Rows; r++)
                    {
                        acc[b * Rows + r] = Unsafe.Add(ref y, (b0 + b) * yStride + r);
                        accMin[b * Rows + r] = Unsafe.Add(ref carry, (b0 + b) * Rows + r);
                    }
            }
            for (var i = 0; i < blocks; i++)
            {
                ref var wb = ref Unsafe.Add(ref w, (nint)i * BlockBytes);
                ref var ai = ref Unsafe.Add(ref a0, (nint)i * Q8_K.BlockBytes);
                ScalesAndMins(ref wb, scales);
                sumi.Clear();
                for (var b = 0; b < n; b++)
                {
                    if (vector)
                        LevelSumsPortable(ref wb, ref Unsafe.Add(ref ai, b * stride), scales, sumi.Slice(b * Rows, Rows));
                    else
                        LevelSumsScalar(ref wb, ref Unsafe.Add(ref ai, b * stride), scales, sumi.Slice(b * Rows, Rows));
                }
                for (var b = 0; b < n; b++)
                {
                    ref var ab = ref Unsafe.Add(ref ai, b * stride);
                    var dy = Unsafe.ReadUnaligned<float>(ref ab);
                    for (var r = 0; r < Rows; r++)
                    {
                        var sumMins = 0;
                        for (var j = 0; j < 8; j++)
                            sumMins += scales[64 + 8 * r + j] * (BSum(ref ab, 2 * j) + BSum(ref ab, 2 * j + 1));
                        var d = Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref wb, DOffset + 2 * r)));
                        var dMin = Fp16.ToFloat(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref wb, DMinOffset + 2 * r)));
                        var k = b * Rows + r;
                        acc[k] = MathF.FusedMultiplyAdd(sumi[k], d * dy, acc[k]);
                        accMin[k] = MathF.FusedMultiplyAdd(sumMins, dMin * dy, accMin[k]);
                    }
                }
            }
            for (var b = 0; b < n; b++)
                for (var r = 0; r < Rows; r++)
                {
                    ref var result = ref Unsafe.Add(ref y, (b0 + b) * yStride + r);
                    if ((range & RowRange.Last) != 0)
                        result = acc[b * Rows + r] - accMin[b * Rows + r];
                    else
                    {
                        result = acc[b * Rows + r];
                        Unsafe.Add(ref carry, (b0 + b) * Rows + r) = accMin[b * Rows + r];
                    }
                }
        }
    }

    /// <summary>Row r's scale of sub-block j at <c>8r + j</c> of <paramref name="scales"/>, its min at <c>64 + 8r + j</c>.</summary>
    private static void ScalesAndMins(ref byte wb, Span<byte> scales)
    {
        Span<byte> packed = stackalloc byte[12];
        for (var r = 0; r < Rows; r++)
        {
            for (var b = 0; b < 12; b++)
                packed[b] = Unsafe.Add(ref wb, ScalesOffset + 8 * b + r);
            for (var j = 0; j < 8; j++)
            {
                KQuantHelpers.GetScaleMinK4(j, packed, out var scale, out var min);
                scales[8 * r + j] = (byte)scale;
                scales[64 + 8 * r + j] = (byte)min;
            }
        }
    }

    /// <summary>sumi[r] += Σ_j scale_j · Σ_k level·q8 for every row, one weight at a time.</summary>
    private static void LevelSumsScalar(ref byte wb, ref byte ab, ReadOnlySpan<byte> scales, Span<int> sumi)
    {
        for (var r = 0; r < Rows; r++)
            for (var j = 0; j < 8; j++)
            {
                var sub = 0;
                for (var k = 0; k < 32; k++)
                    sub += Level(ref wb, r, j, k) * (sbyte)Unsafe.Add(ref ab, Q8_K.QsOffset + 32 * j + k);
                sumi[r] += scales[8 * r + j] * sub;
            }
    }

    /// <summary>Level (0..15) of weight k of sub-block j of row r in a packed super-block.</summary>
    private static int Level(ref byte block, int r, int j, int k)
    {
        var bits = Unsafe.Add(ref block, QsOffset + 256 * (j / 2) + 32 * (k / 4) + 4 * r + k % 4);
        return j % 2 == 0 ? bits & 0xF : bits >> 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BSum(ref byte q8Block, int g) => Unsafe.ReadUnaligned<short>(ref Unsafe.Add(ref q8Block, Q8_K.BSumsOffset + 2 * g));
}
