using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Eight rows of a K-quant (Q2_K, Q3_K, Q5_K: any format with an <see cref="IKQuantx8Block"/> decoder) interleaved
/// super-block by super-block, with one kernel for all of them. Segment k of a group holds block k of rows 0..7:
/// first the eight fp16 <c>d</c> (16 bytes), then for formats with mins the eight fp16 <c>dmin</c> (16 bytes), then
/// each row's block without those 2 or 4 bytes. The group is exactly as large as the eight plain rows.
/// </summary>
/// <remarks>
/// The AVX2 kernel decodes each row's block with the format's own decoder and sums its exact int32 lanes as the
/// plain dot does, then reduces the eight rows' lanes to one vector (lane j = row j) so the float step
/// (d·dy·sumi, dmin·dy·Σ min·bsum) runs once for eight rows, with the eight scales converted by one vector step.
/// <see cref="Gemm"/> decodes each block of the eight rows once and runs it against the activation rows four at a
/// time; its per-row float steps are <see cref="Gemv"/>'s, so both agree bit for bit.
/// </remarks>
internal sealed class KQuantx8<TAvx2, TPortable> : IInterleavedFormat
    where TAvx2 : struct, IKQuantx8Block
    where TPortable : struct, IKQuantPortableBlock
{
    private const int Rows = 8;

    // Activation rows whose accumulators live on the stack at once (InterleavedKernel passes at most 16).
    private const int ActivationChunk = 16;

    private static readonly int BlockBytes = TAvx2.BlockBytes;
    private static readonly int ScaleBytes = TAvx2.HasMins ? 4 : 2;
    private static readonly int HeaderBytes = Rows * ScaleBytes;
    private static readonly int StrippedBytes = TAvx2.BlockBytes - ScaleBytes;
    private static readonly int SegmentBytes = Rows * TAvx2.BlockBytes;

    // A row's stripped block starts this many bytes into its plain block (the scales came first), so the decoder,
    // which adds plain offsets, is handed the address that many bytes earlier; it never reads the missing bytes.
    private static readonly int StrippedStart = TAvx2.ScaleOffset == 0 ? ScaleBytes : 0;

    // The specification (scalar path only): the plain format's reference dot of one block.
    private static readonly QuantFormat.DotRow ReferenceDot = QuantFormats.Get(TAvx2.Type).DotReference;

    private static readonly float TwoPow112 = BitConverter.Int32BitsToSingle((127 + 112) << 23);

    static KQuantx8()
    {
        if (TAvx2.ScaleOffset != 0 && TAvx2.ScaleOffset + ScaleBytes != BlockBytes)
            throw new InvalidOperationException($"{GgmlTypes.NameOf(TAvx2.Type)}: the fp16 scales must open or close the block.");
    }

    public static GgmlType Type => TAvx2.Type;

    public static int RowGroup => Rows;

    public static long GroupBytes(int cols) => (long)Rows * GgmlTypes.Get(TAvx2.Type).RowBytes(cols);

    public static void Pack(ReadOnlySpan<byte> plainRows, int cols, Span<byte> group)
    {
        var blocks = CheckShape(cols, plainRows.Length, group.Length);
        var rowBytes = blocks * BlockBytes;
        for (var k = 0; k < blocks; k++)
        {
            var segment = group.Slice(k * SegmentBytes, SegmentBytes);
            for (var r = 0; r < Rows; r++)
            {
                var plain = plainRows.Slice(r * rowBytes + k * BlockBytes, BlockBytes);
                plain.Slice(TAvx2.ScaleOffset, 2).CopyTo(segment.Slice(2 * r, 2));
                if (TAvx2.HasMins)
                    plain.Slice(TAvx2.ScaleOffset + 2, 2).CopyTo(segment.Slice(2 * Rows + 2 * r, 2));
                plain.Slice(StrippedStart, StrippedBytes).CopyTo(segment.Slice(HeaderBytes + r * StrippedBytes, StrippedBytes));
            }
        }
    }

    public static void Unpack(ReadOnlySpan<byte> group, int cols, Span<byte> plainRows)
    {
        var blocks = CheckShape(cols, plainRows.Length, group.Length);
        var rowBytes = blocks * BlockBytes;
        for (var k = 0; k < blocks; k++)
            for (var r = 0; r < Rows; r++)
                RestoreBlock(group.Slice(k * SegmentBytes, SegmentBytes), r, plainRows.Slice(r * rowBytes + k * BlockBytes, BlockBytes));
    }

    /// <summary>Writes row <paramref name="r"/>'s plain block from a segment.</summary>
    private static void RestoreBlock(ReadOnlySpan<byte> segment, int r, Span<byte> block)
    {
        segment.Slice(2 * r, 2).CopyTo(block.Slice(TAvx2.ScaleOffset, 2));
        if (TAvx2.HasMins)
            segment.Slice(2 * Rows + 2 * r, 2).CopyTo(block.Slice(TAvx2.ScaleOffset + 2, 2));
        segment.Slice(HeaderBytes + r * StrippedBytes, StrippedBytes).CopyTo(block.Slice(StrippedStart, StrippedBytes));
    }

    private static int CheckShape(int cols, int plainBytes, int groupBytes)
    {
        if (cols <= 0 || cols % KQuantHelpers.BlockSize != 0)
            throw new ArgumentException($"{GgmlTypes.NameOf(TAvx2.Type)}x8: {cols} columns are not a whole number of {KQuantHelpers.BlockSize}-blocks.", nameof(cols));
        var need = GroupBytes(cols);
        if (plainBytes < need || groupBytes < need)
            throw new ArgumentException($"{GgmlTypes.NameOf(TAvx2.Type)}x8: {cols} columns need {need} bytes for plain rows and group; got {plainBytes} and {groupBytes}.");
        return cols / KQuantHelpers.BlockSize;
    }

    private static int CheckCall(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride)
    {
        var blocks = cols > 0 && cols % KQuantHelpers.BlockSize == 0 ? cols / KQuantHelpers.BlockSize : -1;
        var actBytes = (long)blocks * Q8_K.BlockBytes;
        if (blocks < 0 || count < 0 || group.Length < GroupBytes(cols)
            || (count > 0 && (activationStride < actBytes || activations.Length < (long)(count - 1) * activationStride + actBytes
                              || resultStride < Rows || results.Length < (long)(count - 1) * resultStride + Rows)))
            throw new ArgumentException($"{GgmlTypes.NameOf(TAvx2.Type)}x8: {count} activation rows of {cols} columns do not fit the spans " +
                $"(group {group.Length} B, activations {activations.Length} B stride {activationStride}, results {results.Length} stride {resultStride}).");
        return blocks;
    }

    public static void Gemv(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int cols, Span<float> results)
    {
        var blocks = CheckCall(group, activation, activation.Length, 1, cols, results, Rows);
        ref var x = ref MemoryMarshal.GetReference(group);
        ref var y = ref MemoryMarshal.GetReference(activation);
        ref var z = ref MemoryMarshal.GetReference(results);
        switch (KQuantHelpers.Kernel(level))
        {
            case KernelKind.Avx512 or KernelKind.Avx2:
                GemvAvx2(ref x, ref y, blocks, ref z);
                break;
            case KernelKind.Vector256:
                Portable(true, ref x, ref y, 0, 1, blocks, ref z, Rows);
                break;
            case KernelKind.Vector128:
                Portable(false, ref x, ref y, 0, 1, blocks, ref z, Rows);
                break;
            default:
                Scalar(group, activation, blocks, results);
                break;
        }
    }

    public static void Gemm(SimdLevel level, ReadOnlySpan<byte> group, ReadOnlySpan<byte> activations, int activationStride, int count, int cols,
        Span<float> results, int resultStride)
    {
        var blocks = CheckCall(group, activations, activationStride, count, cols, results, resultStride);
        ref var x = ref MemoryMarshal.GetReference(group);
        ref var y = ref MemoryMarshal.GetReference(activations);
        ref var z = ref MemoryMarshal.GetReference(results);
        var actBytes = blocks * Q8_K.BlockBytes;
        switch (KQuantHelpers.Kernel(level))
        {
            case KernelKind.Avx512 or KernelKind.Avx2:
                GemmAvx2(ref x, ref y, activationStride, count, blocks, ref z, resultStride);
                break;
            case KernelKind.Vector256:
                Portable(true, ref x, ref y, activationStride, count, blocks, ref z, resultStride);
                break;
            case KernelKind.Vector128:
                Portable(false, ref x, ref y, activationStride, count, blocks, ref z, resultStride);
                break;
            default:
                for (var b = 0; b < count; b++)
                    Scalar(group, activations.Slice(b * activationStride, actBytes), blocks, results.Slice(b * resultStride, Rows));
                break;
        }
    }

    /// <summary>The specification: each row's plain blocks through the format's scalar dot, block by block.</summary>
    private static void Scalar(ReadOnlySpan<byte> group, ReadOnlySpan<byte> activation, int blocks, Span<float> results)
    {
        Span<byte> block = stackalloc byte[BlockBytes];
        Span<float> sums = stackalloc float[Rows];
        sums.Clear();
        for (var k = 0; k < blocks; k++)
        {
            var a = activation.Slice(k * Q8_K.BlockBytes, Q8_K.BlockBytes);
            for (var r = 0; r < Rows; r++)
            {
                RestoreBlock(group.Slice(k * SegmentBytes, SegmentBytes), r, block);
                sums[r] += ReferenceDot(block, a, KQuantHelpers.BlockSize);
            }
        }
        sums.CopyTo(results);
    }

    [InlineArray(Rows * ActivationChunk)]
    private struct FloatSums
    {
        private float _element0;
    }

    /// <summary>The portable kernels' block sums, each row's block unpacked once for every activation row.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Portable(bool wide, ref byte x, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride)
    {
        KQuantPortable.Weights256 w = default;
        KQuantPortable.Scales16 scales = default;
        KQuantPortable.Scales16 coefficients = default;
        FloatSums sums = default;
        Span<byte> block = stackalloc byte[BlockBytes];
        for (var b0 = 0; b0 < count; b0 += ActivationChunk)
        {
            var rows = Math.Min(ActivationChunk, count - b0);
            ((Span<float>)sums).Clear();
            for (nint k = 0; k < blocks; k++)
            {
                var segment = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref x, k * SegmentBytes), SegmentBytes);
                for (var r = 0; r < Rows; r++)
                {
                    RestoreBlock(segment, r, block);
                    TPortable.Unpack(ref MemoryMarshal.GetReference(block), ref w, ref scales, ref coefficients, out var d, out var dMin);
                    for (var b = 0; b < rows; b++)
                    {
                        ref var yb = ref Unsafe.Add(ref y, (b0 + b) * stride + k * Q8_K.BlockBytes);
                        var isum = KQuantPortable.ScaledBlockDot(wide, ref w[0], ref KQuantPortable.Quants(ref yb), ref scales);
                        var msum = KQuantPortable.GroupSums(ref yb, ref coefficients);
                        var dy = Unsafe.ReadUnaligned<float>(ref yb);
                        if (TPortable.HasMins)
                            sums[b * Rows + r] += d * dy * isum + dMin * dy * msum;
                        else
                            sums[b * Rows + r] += d * dy * (isum - msum);
                    }
                }
            }
            for (var b = 0; b < rows; b++)
                for (var r = 0; r < Rows; r++)
                    Unsafe.Add(ref results, (b0 + b) * resultStride + r) = sums[b * Rows + r];
        }
    }

    [InlineArray(Rows)]
    private struct RowLanes
    {
        private Vector256<int> _element0;
    }

    [InlineArray(4 * Rows)]
    private struct QuadLanes
    {
        private Vector256<int> _element0;
    }

    [InlineArray(16 * Rows)]
    private struct UnpackedRows
    {
        private Vector256<byte> _element0;
    }

    [InlineArray(ActivationChunk)]
    private struct Accumulators
    {
        private Vector256<float> _element0;
    }

    /// <summary>Row <paramref name="r"/>'s block in a segment, as the address its decoder expects.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte RowBlock(ref byte segment, nint r) => ref Unsafe.Add(ref segment, HeaderBytes + r * StrippedBytes - StrippedStart);

    /// <summary>
    /// Eight vectors of int32 lanes (<paramref name="stride"/> vectors apart) to one vector whose lane j is the sum of
    /// vector j's lanes. Integer, so exact in any order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Reduce8(ref Vector256<int> v, nint stride)
    {
        var t0 = Avx2.HorizontalAdd(v, Unsafe.Add(ref v, stride));
        var t1 = Avx2.HorizontalAdd(Unsafe.Add(ref v, 2 * stride), Unsafe.Add(ref v, 3 * stride));
        var t2 = Avx2.HorizontalAdd(Unsafe.Add(ref v, 4 * stride), Unsafe.Add(ref v, 5 * stride));
        var t3 = Avx2.HorizontalAdd(Unsafe.Add(ref v, 6 * stride), Unsafe.Add(ref v, 7 * stride));
        // Low 128 bits: the first four lanes' sums of rows 0..3 (u0) or 4..7 (u1); high 128 bits: the last four lanes'.
        var u0 = Avx2.HorizontalAdd(t0, t1);
        var u1 = Avx2.HorizontalAdd(t2, t3);
        return Avx2.Permute2x128(u0, u1, 0x20) + Avx2.Permute2x128(u0, u1, 0x31);
    }

    /// <summary>Eight fp16 values to float lanes, exactly: the fp16 exponent and mantissa moved into float position
    /// and rescaled by 2^112 (which also handles subnormals), the sign put back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Halves(ref byte at)
    {
        var h = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref at).AsUInt16());
        var magnitude = Avx2.ShiftLeftLogical(h & Vector256.Create(0x7FFF), 13).AsSingle() * Vector256.Create(TwoPow112);
        return (magnitude.AsInt32() | Avx2.ShiftLeftLogical(h & Vector256.Create(0x8000), 16)).AsSingle();
    }

    /// <summary>The float step of one block for eight rows (lane j = row j), the same in <see cref="GemvAvx2"/> and <see cref="GemmAvx2"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref byte segment, ref byte yb, Vector256<int> sumi, Vector256<int> mins, ref Vector256<float> acc, ref Vector256<float> accMin)
    {
        var dy = Vector256.Create(Unsafe.ReadUnaligned<float>(ref yb));
        acc = Fma.MultiplyAdd(Halves(ref segment) * dy, Avx.ConvertToVector256Single(sumi), acc);
        if (TAvx2.HasMins)
            accMin = Fma.MultiplyAdd(Halves(ref Unsafe.Add(ref segment, 2 * Rows)) * dy, Avx.ConvertToVector256Single(mins), accMin);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(Vector256<float> acc, Vector256<float> accMin, ref float results) =>
        (TAvx2.HasMins ? acc - accMin : acc).StoreUnsafe(ref results);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> BSums(ref byte yb) => Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset)));

    /// <summary>Eight rows against one activation row (never inlined: the decoder helpers need the JIT's inline budget).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvAvx2(ref byte x, ref byte y, int blocks, ref float results)
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector256<float>.Zero;
        RowLanes sums = default;
        RowLanes mins = default;
        TAvx2 b = default;
        for (nint k = 0; k < blocks; k++)
        {
            ref var segment = ref Unsafe.Add(ref x, k * SegmentBytes);
            ref var yb = ref Unsafe.Add(ref y, k * Q8_K.BlockBytes);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var bsums = BSums(ref yb);
            for (nint r = 0; r < Rows; r++)
            {
                ref var xb = ref RowBlock(ref segment, r);
                b.LoadScales(ref xb);
                var s = KQuantAvx2Kernels.BlockSum(ref b, ref xb, ref q8);
                Lanes(ref sums[(int)r], ref mins[(int)r], s, Avx2.MultiplyAddAdjacent(b.Coefficients, bsums));
            }
            Step(ref segment, ref yb, Reduce8(ref sums[0], 1), TAvx2.HasMins ? Reduce8(ref mins[0], 1) : default, ref acc, ref accMin);
        }
        Finish(acc, accMin, ref results);
    }

    /// <summary>Eight rows against <paramref name="count"/> activation rows <paramref name="stride"/> bytes apart.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemmAvx2(ref byte x, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride)
    {
        UnpackedRows unpacked = default;
        RowLanes coefficients = default;
        QuadLanes sums = default;
        QuadLanes mins = default;
        Accumulators acc = default;
        Accumulators accMin = default;
        TAvx2 b = default;
        for (var b0 = 0; b0 < count; b0 += ActivationChunk)
        {
            var rows = Math.Min(ActivationChunk, count - b0);
            ref var y0 = ref Unsafe.Add(ref y, b0 * stride);
            for (var i = 0; i < rows; i++)
            {
                acc[i] = Vector256<float>.Zero;
                accMin[i] = Vector256<float>.Zero;
            }
            for (nint k = 0; k < blocks; k++)
            {
                ref var segment = ref Unsafe.Add(ref x, k * SegmentBytes);
                for (nint r = 0; r < Rows; r++)
                {
                    ref var xb = ref RowBlock(ref segment, r);
                    b.LoadScales(ref xb);
                    ref var u = ref unpacked[16 * (int)r];
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 0);
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 1);
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 2);
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 3);
                    coefficients[(int)r] = b.Coefficients.AsInt32();
                }
                ref var yBlock = ref Unsafe.Add(ref y0, k * Q8_K.BlockBytes);
                var i = 0;
                for (; i + 4 <= rows; i += 4)
                {
                    ref var ya = ref Unsafe.Add(ref yBlock, i * stride);
                    ref var yb = ref Unsafe.Add(ref ya, stride);
                    ref var yc = ref Unsafe.Add(ref yb, stride);
                    ref var yd = ref Unsafe.Add(ref yc, stride);
                    for (nint r = 0; r < Rows; r++)
                    {
                        KQuantAvx2Kernels.Sum4(ref unpacked[16 * (int)r], ref Unsafe.Add(ref ya, Q8_K.QsOffset), ref Unsafe.Add(ref yb, Q8_K.QsOffset),
                            ref Unsafe.Add(ref yc, Q8_K.QsOffset), ref Unsafe.Add(ref yd, Q8_K.QsOffset),
                            out var sa, out var sb, out var sc, out var sd);
                        var c = coefficients[(int)r].AsInt16();
                        Lanes(ref sums[4 * (int)r], ref mins[4 * (int)r], sa, Avx2.MultiplyAddAdjacent(c, BSums(ref ya)));
                        Lanes(ref sums[4 * (int)r + 1], ref mins[4 * (int)r + 1], sb, Avx2.MultiplyAddAdjacent(c, BSums(ref yb)));
                        Lanes(ref sums[4 * (int)r + 2], ref mins[4 * (int)r + 2], sc, Avx2.MultiplyAddAdjacent(c, BSums(ref yc)));
                        Lanes(ref sums[4 * (int)r + 3], ref mins[4 * (int)r + 3], sd, Avx2.MultiplyAddAdjacent(c, BSums(ref yd)));
                    }
                    Step(ref segment, ref ya, Reduce8(ref sums[0], 4), TAvx2.HasMins ? Reduce8(ref mins[0], 4) : default, ref acc[i], ref accMin[i]);
                    Step(ref segment, ref yb, Reduce8(ref sums[1], 4), TAvx2.HasMins ? Reduce8(ref mins[1], 4) : default, ref acc[i + 1], ref accMin[i + 1]);
                    Step(ref segment, ref yc, Reduce8(ref sums[2], 4), TAvx2.HasMins ? Reduce8(ref mins[2], 4) : default, ref acc[i + 2], ref accMin[i + 2]);
                    Step(ref segment, ref yd, Reduce8(ref sums[3], 4), TAvx2.HasMins ? Reduce8(ref mins[3], 4) : default, ref acc[i + 3], ref accMin[i + 3]);
                }
                for (; i < rows; i++)
                {
                    ref var ya = ref Unsafe.Add(ref yBlock, i * stride);
                    var bsums = BSums(ref ya);
                    for (nint r = 0; r < Rows; r++)
                    {
                        var s = KQuantAvx2Kernels.Sum1(ref unpacked[16 * (int)r], ref Unsafe.Add(ref ya, Q8_K.QsOffset));
                        Lanes(ref sums[(int)r], ref mins[(int)r], s, Avx2.MultiplyAddAdjacent(coefficients[(int)r].AsInt16(), bsums));
                    }
                    Step(ref segment, ref ya, Reduce8(ref sums[0], 1), TAvx2.HasMins ? Reduce8(ref mins[0], 1) : default, ref acc[i], ref accMin[i]);
                }
            }
            for (var i = 0; i < rows; i++)
                Finish(acc[i], accMin[i], ref Unsafe.Add(ref results, (b0 + i) * resultStride));
        }
    }

    /// <summary>Stores one row's block sum and its group term: apart for formats with mins, the correction subtracted otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lanes(ref Vector256<int> sum, ref Vector256<int> min, Vector256<int> s, Vector256<int> groups)
    {
        if (TAvx2.HasMins)
        {
            sum = s;
            min = groups;
        }
        else
        {
            sum = s - groups;
        }
    }
}
