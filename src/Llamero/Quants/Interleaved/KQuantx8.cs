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
/// each row's record (the block without them, 6-bit scales widened to bytes: <see cref="IKQuantx8Block.ToRecord"/>).
/// Q2_K and Q5_K groups are as large as their eight plain rows; Q3_K's are 3.6% larger (scales 12 → 16 bytes).
/// </summary>
/// <remarks>
/// The AVX2 kernels decode each row's record with the format's own decoder and sum its exact int32 lanes as the
/// plain dot does; the eight rows' scales are converted from fp16 once per block (one vector step) and their float
/// steps are the plain kernel's own, lane for lane, so every result is bit-identical to the plain
/// <see cref="IQuantFormat.Dot"/> of the row on the same path (and so to its <see cref="IQuantFormat.DotBatch"/>).
/// <see cref="Gemm"/> decodes each block of the eight rows once and runs it against the activation rows four at a
/// time.
/// </remarks>
internal sealed class KQuantx8<TAvx2, TPortable> : IInterleavedFormat
    where TAvx2 : struct, IKQuantx8Block
    where TPortable : struct, IKQuantPortableBlock
{
    private const int Rows = 8;

    // Activation rows whose accumulators live on the stack at once (InterleavedKernel passes at most 16).
    private const int ActivationChunk = 16;

    private static readonly int BlockBytes = TAvx2.BlockBytes;
    private static readonly int HeaderBytes = Rows * (TAvx2.HasMins ? 4 : 2);
    private static readonly int RecordBytes = TAvx2.RecordBytes;
    private static readonly int SegmentBytes = HeaderBytes + Rows * TAvx2.RecordBytes;

    // The specification (scalar path only): the plain format's reference dot of one block.
    private static readonly QuantFormat.DotRow ReferenceDot = QuantFormats.Get(TAvx2.Type).DotReference;

    private static readonly float TwoPowMinus24 = BitConverter.Int32BitsToSingle((127 - 24) << 23);

    public static GgmlType Type => TAvx2.Type;

    public static int RowGroup => Rows;

    public static long GroupBytes(int cols) => (long)cols / KQuantHelpers.BlockSize * SegmentBytes;

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
                TAvx2.ToRecord(plain, segment.Slice(HeaderBytes + r * RecordBytes, RecordBytes));
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
        TAvx2.FromRecord(segment.Slice(HeaderBytes + r * RecordBytes, RecordBytes), block);
    }

    private static int CheckShape(int cols, int plainBytes, int groupBytes)
    {
        if (cols <= 0 || cols % KQuantHelpers.BlockSize != 0)
            throw new ArgumentException($"{GgmlTypes.NameOf(TAvx2.Type)}x8: {cols} columns are not a whole number of {KQuantHelpers.BlockSize}-blocks.", nameof(cols));
        var plainNeed = Rows * GgmlTypes.Get(TAvx2.Type).RowBytes(cols);
        if (plainBytes < plainNeed || groupBytes < GroupBytes(cols))
            throw new ArgumentException($"{GgmlTypes.NameOf(TAvx2.Type)}x8: {cols} columns need {plainNeed} bytes of plain rows and a {GroupBytes(cols)}-byte group; got {plainBytes} and {groupBytes}.");
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

    [InlineArray(16 * Rows)]
    private struct UnpackedRows
    {
        private Vector256<byte> _element0;
    }

    [InlineArray(Rows)]
    private struct Coefficients8
    {
        private Vector256<short> _element0;
    }

    /// <summary>Float accumulators, one vector per (activation row, weight row), as the plain kernel keeps per row.</summary>
    [InlineArray(Rows * ActivationChunk)]
    private struct Accumulators
    {
        private Vector256<float> _element0;
    }

    [InlineArray(Rows)]
    private struct RowAccumulators
    {
        private Vector256<float> _element0;
    }

    /// <summary>Row <paramref name="r"/>'s record in a segment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte RowBlock(ref byte segment, nint r) => ref Unsafe.Add(ref segment, HeaderBytes + r * RecordBytes);

    /// <summary>
    /// Eight fp16 values to float lanes, exactly, without float subnormals (a native library in the process may
    /// have set denormals-are-zero): a normal half moves its exponent and mantissa into float position and rebiases
    /// the exponent; a subnormal half is its mantissa (an exact int) times 2^-24.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Halves(ref byte at)
    {
        var h = Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref at).AsUInt16());
        var magnitude = h & Vector256.Create(0x7FFF);
        var normal = (Avx2.ShiftLeftLogical(magnitude, 13) + Vector256.Create((127 - 15) << 23)).AsSingle();
        var subnormal = Avx.ConvertToVector256Single(magnitude) * Vector256.Create(TwoPowMinus24);
        var value = Avx.BlendVariable(normal, subnormal, Avx2.CompareGreaterThan(Vector256.Create(0x400), magnitude).AsSingle());
        return (value.AsInt32() | Avx2.ShiftLeftLogical(h & Vector256.Create(0x8000), 16)).AsSingle();
    }

    /// <summary>
    /// The eight rows' block scales times the activation block's: lane j of <paramref name="dd"/> is d_j·dy and of
    /// <paramref name="dm"/> −dmin_j·dy, the very products the plain kernel broadcasts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockScales(ref byte segment, ref byte yb, out Vector256<float> dd, out Vector256<float> dm)
    {
        var dy = Vector256.Create(Unsafe.ReadUnaligned<float>(ref yb));
        dd = Halves(ref segment) * dy;
        dm = TAvx2.HasMins ? -(Halves(ref Unsafe.Add(ref segment, 2 * Rows)) * dy) : default;
    }

    /// <summary>
    /// One block's float step for weight row <paramref name="r"/>, the plain kernel's own (KQuantAvx2Kernels.Accumulate):
    /// acc += d·dy·sumi and accMin += −dmin·dy·Σ min·bsum lane by lane, or acc += d·dy·(sumi − correction), so
    /// every result is bit-identical to the plain <see cref="IQuantFormat.Dot"/> of the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(Vector256<float> dd, Vector256<float> dm, nint r, Vector256<int> sumi, Vector256<int> groups,
        ref Vector256<float> acc, ref Vector256<float> accMin)
    {
        var lane = Vector256.Create((int)r);
        if (TAvx2.HasMins)
        {
            acc = Fma.MultiplyAdd(Avx2.PermuteVar8x32(dd, lane), Avx.ConvertToVector256Single(sumi), acc);
            accMin = Fma.MultiplyAdd(Avx2.PermuteVar8x32(dm, lane), Avx.ConvertToVector256Single(groups), accMin);
        }
        else
        {
            acc = Fma.MultiplyAdd(Avx2.PermuteVar8x32(dd, lane), Avx.ConvertToVector256Single(sumi - groups), acc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> acc, Vector256<float> accMin) =>
        TAvx2.HasMins ? Vector256.Sum(acc) + Vector256.Sum(accMin) : Vector256.Sum(acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> BSums(ref byte yb) => Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset)));

    /// <summary>Eight rows against one activation row (never inlined: the decoder helpers need the JIT's inline budget).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemvAvx2(ref byte x, ref byte y, int blocks, ref float results)
    {
        RowAccumulators acc = default;
        RowAccumulators accMin = default;
        ref var acc0 = ref acc[0];
        ref var accMin0 = ref accMin[0];
        TAvx2 b = default;
        for (nint k = 0; k < blocks; k++)
        {
            ref var segment = ref Unsafe.Add(ref x, k * SegmentBytes);
            ref var yb = ref Unsafe.Add(ref y, k * Q8_K.BlockBytes);
            ref var q8 = ref Unsafe.Add(ref yb, Q8_K.QsOffset);
            var bsums = BSums(ref yb);
            BlockScales(ref segment, ref yb, out var dd, out var dm);
            for (nint r = 0; r < Rows; r++)
            {
                ref var xb = ref RowBlock(ref segment, r);
                b.LoadRecord(ref xb);
                var s = KQuantAvx2Kernels.BlockSum(ref b, ref xb, ref q8);
                Step(dd, dm, r, s, Avx2.MultiplyAddAdjacent(b.Coefficients, bsums), ref Unsafe.Add(ref acc0, r), ref Unsafe.Add(ref accMin0, r));
            }
        }
        for (var r = 0; r < Rows; r++)
            Unsafe.Add(ref results, r) = Finish(acc[r], accMin[r]);
    }

    /// <summary>Eight rows against <paramref name="count"/> activation rows <paramref name="stride"/> bytes apart: each
    /// block of the eight rows is decoded once, then run against the activation rows four at a time.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void GemmAvx2(ref byte x, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride)
    {
        UnpackedRows unpacked = default;
        Coefficients8 coefficients = default;
        Accumulators acc = default;
        Accumulators accMin = default;
        TAvx2 b = default;
        for (var b0 = 0; b0 < count; b0 += ActivationChunk)
        {
            var rows = Math.Min(ActivationChunk, count - b0);
            ref var y0 = ref Unsafe.Add(ref y, b0 * stride);
            ((Span<Vector256<float>>)acc).Clear();
            ((Span<Vector256<float>>)accMin).Clear();
            for (nint k = 0; k < blocks; k++)
            {
                ref var segment = ref Unsafe.Add(ref x, k * SegmentBytes);
                for (nint r = 0; r < Rows; r++)
                {
                    ref var xb = ref RowBlock(ref segment, r);
                    b.LoadRecord(ref xb);
                    ref var u = ref unpacked[16 * (int)r];
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 0);
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 1);
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 2);
                    KQuantAvx2Kernels.Unpack(ref b, ref xb, ref u, 3);
                    coefficients[(int)r] = b.Coefficients;
                }
                ref var yBlock = ref Unsafe.Add(ref y0, k * Q8_K.BlockBytes);
                var i = 0;
                for (; i + 4 <= rows; i += 4)
                {
                    ref var ya = ref Unsafe.Add(ref yBlock, i * stride);
                    ref var yb = ref Unsafe.Add(ref ya, stride);
                    ref var yc = ref Unsafe.Add(ref yb, stride);
                    ref var yd = ref Unsafe.Add(ref yc, stride);
                    BlockScales(ref segment, ref ya, out var dda, out var dma);
                    BlockScales(ref segment, ref yb, out var ddb, out var dmb);
                    BlockScales(ref segment, ref yc, out var ddc, out var dmc);
                    BlockScales(ref segment, ref yd, out var ddd, out var dmd);
                    for (nint r = 0; r < Rows; r++)
                    {
                        KQuantAvx2Kernels.Sum4(ref unpacked[16 * (int)r], ref Unsafe.Add(ref ya, Q8_K.QsOffset), ref Unsafe.Add(ref yb, Q8_K.QsOffset),
                            ref Unsafe.Add(ref yc, Q8_K.QsOffset), ref Unsafe.Add(ref yd, Q8_K.QsOffset),
                            out var sa, out var sb, out var sc, out var sd);
                        var c = coefficients[(int)r];
                        var a = Rows * i + (int)r;
                        Step(dda, dma, r, sa, Avx2.MultiplyAddAdjacent(c, BSums(ref ya)), ref acc[a], ref accMin[a]);
                        Step(ddb, dmb, r, sb, Avx2.MultiplyAddAdjacent(c, BSums(ref yb)), ref acc[a + Rows], ref accMin[a + Rows]);
                        Step(ddc, dmc, r, sc, Avx2.MultiplyAddAdjacent(c, BSums(ref yc)), ref acc[a + 2 * Rows], ref accMin[a + 2 * Rows]);
                        Step(ddd, dmd, r, sd, Avx2.MultiplyAddAdjacent(c, BSums(ref yd)), ref acc[a + 3 * Rows], ref accMin[a + 3 * Rows]);
                    }
                }
                for (; i < rows; i++)
                {
                    ref var ya = ref Unsafe.Add(ref yBlock, i * stride);
                    var bsums = BSums(ref ya);
                    BlockScales(ref segment, ref ya, out var dd, out var dm);
                    for (nint r = 0; r < Rows; r++)
                    {
                        var s = KQuantAvx2Kernels.Sum1(ref unpacked[16 * (int)r], ref Unsafe.Add(ref ya, Q8_K.QsOffset));
                        var a = Rows * i + (int)r;
                        Step(dd, dm, r, s, Avx2.MultiplyAddAdjacent(coefficients[(int)r], bsums), ref acc[a], ref accMin[a]);
                    }
                }
            }
            for (var i = 0; i < rows; i++)
                for (var r = 0; r < Rows; r++)
                    Unsafe.Add(ref results, (b0 + i) * resultStride + r) = Finish(acc[Rows * i + r], accMin[Rows * i + r]);
        }
    }
}
