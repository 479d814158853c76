using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Quants;

/// <summary>
/// How one K-quant format presents a super-block to the AVX2 kernels. Every K-quant reduces to the same shape:
/// eight vectors of 32 unsigned levels (vector k pairs with Q8_K activations 32k .. 32k+31), one int16 scale
/// vector per level vector, and sixteen int16 coefficients (one per 16-weight group) that multiply the Q8_K
/// group sums: mins (Q2_K, Q4_K, Q5_K, scaled by <see cref="DMin"/>) or the level offset folded into an
/// integer correction (Q3_K, Q6_K). The struct holds the per-block state that <see cref="Load"/> unpacks.
/// </summary>
internal interface IKQuantAvx2Block
{
    /// <summary>Bytes per weight block.</summary>
    static abstract int BlockBytes { get; }

    /// <summary>True: coefficients are mins with their own float scale <see cref="DMin"/>; false: the integer
    /// correction Σ coefficient·bsum is subtracted from the level sum before scaling.</summary>
    static abstract bool HasMins { get; }

    /// <summary>Unpacks the block's scales (and whatever <see cref="Pair"/> reuses) from <paramref name="xb"/>.</summary>
    void Load(ref byte xb);

    /// <summary>The block's fp16 scale as float.</summary>
    float D { get; }

    /// <summary>Minus the block's fp16 min scale (0 for formats without mins).</summary>
    float DMin { get; }

    /// <summary>The sixteen group coefficients against the Q8_K bsums.</summary>
    Vector256<short> Coefficients { get; }

    /// <summary>Level vectors 2p and 2p+1 and their scale vectors (p = 0..3, a constant at every call site).</summary>
    void Pair(ref byte xb, int p, out Vector256<byte> levels0, out Vector256<byte> levels1, out Vector256<short> scales0, out Vector256<short> scales1);
}

/// <summary>
/// The AVX2 K-quant dot kernels, one weight row against one activation row (<see cref="Dot{TBlock}"/>) or many
/// (<see cref="Batch{TBlock}"/>). Both compute, per block and row, the same int32 lanes
/// Σ_k madd(scales_k, maddubs(levels_k, q8_k)) (exact) and the same float steps, so a batch result is
/// bit-identical to the single-row dot. The batch kernel unpacks each weight block once into a stack buffer
/// and runs it against the activation rows four at a time.
/// </summary>
internal static class KQuantAvx2Kernels
{
    /// <summary>Activation rows whose float accumulators live on the stack at once.</summary>
    private const int RowChunk = 16;

    /// <summary>One unpacked super-block: eight level vectors and their eight scale vectors.</summary>
    [InlineArray(16)]
    private struct UnpackedBlock
    {
        private Vector256<byte> _element0;
    }

    [InlineArray(RowChunk)]
    private struct Accumulators
    {
        private Vector256<float> _element0;
    }

    /// <summary>Σ over one block of one row: all four level-vector pairs against the row's activations.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> BlockSum<TBlock>(ref TBlock b, ref byte xb, ref byte q8) where TBlock : struct, IKQuantAvx2Block =>
        PairSum(ref b, ref xb, ref q8, 0) + PairSum(ref b, ref xb, ref q8, 1) + PairSum(ref b, ref xb, ref q8, 2) + PairSum(ref b, ref xb, ref q8, 3);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> PairSum<TBlock>(ref TBlock b, ref byte xb, ref byte q8, int p) where TBlock : struct, IKQuantAvx2Block
    {
        b.Pair(ref xb, p, out var l0, out var l1, out var s0, out var s1);
        var a0 = Vector256.LoadUnsafe(ref q8, (nuint)(64 * p)).AsSByte();
        var a1 = Vector256.LoadUnsafe(ref q8, (nuint)(64 * p + 32)).AsSByte();
        return Avx2.MultiplyAddAdjacent(s0, Avx2.MultiplyAddAdjacent(l0, a0)) + Avx2.MultiplyAddAdjacent(s1, Avx2.MultiplyAddAdjacent(l1, a1));
    }

    /// <summary>
    /// The float step of one block and row, the same in both kernels: acc += d·dy·sumi (minus the integer
    /// correction), and for formats with mins accMin += dmin·dy·Σ min·bsum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TBlock>(float d, float dMin, Vector256<short> coefficients, ref byte yb, Vector256<int> sumi,
        ref Vector256<float> acc, ref Vector256<float> accMin) where TBlock : struct, IKQuantAvx2Block
    {
        var dy = Unsafe.ReadUnaligned<float>(ref yb);
        var bsums = Vector256.LoadUnsafe(ref Unsafe.As<byte, short>(ref Unsafe.Add(ref yb, Q8_K.BSumsOffset)));
        var groups = Avx2.MultiplyAddAdjacent(coefficients, bsums);
        if (TBlock.HasMins)
        {
            acc = Fma.MultiplyAdd(Vector256.Create(d * dy), Avx.ConvertToVector256Single(sumi), acc);
            accMin = Fma.MultiplyAdd(Vector256.Create(dMin * dy), Avx.ConvertToVector256Single(groups), accMin);
        }
        else
        {
            acc = Fma.MultiplyAdd(Vector256.Create(d * dy), Avx.ConvertToVector256Single(sumi - groups), acc);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TBlock>(Vector256<float> acc, Vector256<float> accMin) where TBlock : struct, IKQuantAvx2Block =>
        TBlock.HasMins ? Vector256.Sum(acc) + Vector256.Sum(accMin) : Vector256.Sum(acc);

    /// <summary>One weight row against one activation row. Never inlined: inside a caller the JIT's inline budget
    /// runs out before the block helpers (measured 10x slower with dynamic PGO).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static float Dot<TBlock>(ref byte x, ref byte y, int blocks) where TBlock : struct, IKQuantAvx2Block
    {
        var acc = Vector256<float>.Zero;
        var accMin = Vector256<float>.Zero;
        TBlock b = default;
        for (nint i = 0; i < blocks; i++)
        {
            ref var xb = ref Unsafe.Add(ref x, i * TBlock.BlockBytes);
            ref var yb = ref Unsafe.Add(ref y, i * Q8_K.BlockBytes);
            b.Load(ref xb);
            var sumi = BlockSum(ref b, ref xb, ref Unsafe.Add(ref yb, Q8_K.QsOffset));
            Accumulate<TBlock>(b.D, b.DMin, b.Coefficients, ref yb, sumi, ref acc, ref accMin);
        }
        return Finish<TBlock>(acc, accMin);
    }

    /// <summary>
    /// One weight row against <paramref name="count"/> activation rows <paramref name="stride"/> bytes apart;
    /// result r goes to <c>results[r·resultStride]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Batch<TBlock>(ref byte x, ref byte y, nint stride, int count, int blocks, ref float results, nint resultStride)
        where TBlock : struct, IKQuantAvx2Block
    {
        UnpackedBlock unpacked = default;
        Accumulators acc = default;
        Accumulators accMin = default;
        TBlock b = default;
        for (var r0 = 0; r0 < count; r0 += RowChunk)
        {
            var rows = Math.Min(RowChunk, count - r0);
            ref var y0 = ref Unsafe.Add(ref y, r0 * stride);
            for (var r = 0; r < rows; r++)
            {
                acc[r] = Vector256<float>.Zero;
                accMin[r] = Vector256<float>.Zero;
            }
            for (nint i = 0; i < blocks; i++)
            {
                ref var xb = ref Unsafe.Add(ref x, i * TBlock.BlockBytes);
                b.Load(ref xb);
                ref var u = ref Unsafe.As<UnpackedBlock, Vector256<byte>>(ref unpacked);
                Unpack(ref b, ref xb, ref u, 0);
                Unpack(ref b, ref xb, ref u, 1);
                Unpack(ref b, ref xb, ref u, 2);
                Unpack(ref b, ref xb, ref u, 3);
                var d = b.D;
                var dMin = b.DMin;
                var coefficients = b.Coefficients;
                ref var yBlock = ref Unsafe.Add(ref y0, i * Q8_K.BlockBytes);
                var r = 0;
                for (; r + 4 <= rows; r += 4)
                {
                    ref var ya = ref Unsafe.Add(ref yBlock, r * stride);
                    ref var yb = ref Unsafe.Add(ref ya, stride);
                    ref var yc = ref Unsafe.Add(ref yb, stride);
                    ref var yd = ref Unsafe.Add(ref yc, stride);
                    Sum4(ref u, ref Unsafe.Add(ref ya, Q8_K.QsOffset), ref Unsafe.Add(ref yb, Q8_K.QsOffset),
                        ref Unsafe.Add(ref yc, Q8_K.QsOffset), ref Unsafe.Add(ref yd, Q8_K.QsOffset),
                        out var sa, out var sb, out var sc, out var sd);
                    Accumulate<TBlock>(d, dMin, coefficients, ref ya, sa, ref acc[r], ref accMin[r]);
                    Accumulate<TBlock>(d, dMin, coefficients, ref yb, sb, ref acc[r + 1], ref accMin[r + 1]);
                    Accumulate<TBlock>(d, dMin, coefficients, ref yc, sc, ref acc[r + 2], ref accMin[r + 2]);
                    Accumulate<TBlock>(d, dMin, coefficients, ref yd, sd, ref acc[r + 3], ref accMin[r + 3]);
                }
                for (; r < rows; r++)
                {
                    ref var ya = ref Unsafe.Add(ref yBlock, r * stride);
                    Accumulate<TBlock>(d, dMin, coefficients, ref ya, Sum1(ref u, ref Unsafe.Add(ref ya, Q8_K.QsOffset)), ref acc[r], ref accMin[r]);
                }
            }
            for (var r = 0; r < rows; r++)
                Unsafe.Add(ref results, (r0 + r) * resultStride) = Finish<TBlock>(acc[r], accMin[r]);
        }
    }

    /// <summary>Stores level vectors 2p, 2p+1 at slots 2p, 2p+1 and their scales at slots 8+2p, 9+2p.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Unpack<TBlock>(ref TBlock b, ref byte xb, ref Vector256<byte> u, int p) where TBlock : struct, IKQuantAvx2Block
    {
        b.Pair(ref xb, p, out var l0, out var l1, out var s0, out var s1);
        Unsafe.Add(ref u, 2 * p) = l0;
        Unsafe.Add(ref u, 2 * p + 1) = l1;
        Unsafe.Add(ref u, 8 + 2 * p) = s0.AsByte();
        Unsafe.Add(ref u, 9 + 2 * p) = s1.AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Product(Vector256<byte> levels, Vector256<short> scales, ref byte q8, nint k) =>
        Avx2.MultiplyAddAdjacent(scales, Avx2.MultiplyAddAdjacent(levels, Vector256.LoadUnsafe(ref q8, (nuint)(32 * k)).AsSByte()));

    internal static void Sum4(ref Vector256<byte> u, ref byte qa, ref byte qb, ref byte qc, ref byte qd,
        out Vector256<int> sa, out Vector256<int> sb, out Vector256<int> sc, out Vector256<int> sd)
    {
        // Locals, not the out parameters: those live in memory and would put a store-load on every add.
        Vector256<int> a = default, b = default, c = default, d = default;
        for (nint k = 0; k < 8; k++)
        {
            var levels = Unsafe.Add(ref u, k);
            var scales = Unsafe.Add(ref u, 8 + k).AsInt16();
            a += Product(levels, scales, ref qa, k);
            b += Product(levels, scales, ref qb, k);
            c += Product(levels, scales, ref qc, k);
            d += Product(levels, scales, ref qd, k);
        }
        sa = a;
        sb = b;
        sc = c;
        sd = d;
    }

    internal static Vector256<int> Sum1(ref Vector256<byte> u, ref byte q)
    {
        var s = Vector256<int>.Zero;
        for (nint k = 0; k < 8; k++)
            s += Product(Unsafe.Add(ref u, k), Unsafe.Add(ref u, 8 + k).AsInt16(), ref q, k);
        return s;
    }

    /// <summary>Shifts each 16-bit lane left by <paramref name="shift"/> bits (right when negative); a constant at every call site.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> ShiftBits(Vector256<byte> v, int shift) => shift switch
    {
        // The shift folds to an immediate once inlined (every caller passes a constant).
#pragma warning disable CA1857
        > 0 => Avx2.ShiftLeftLogical(v.AsUInt16(), (byte)shift).AsByte(),
        < 0 => Avx2.ShiftRightLogical(v.AsUInt16(), (byte)-shift).AsByte(),
#pragma warning restore CA1857
        _ => v,
    };

    /// <summary>
    /// The sixteen signed byte scales of a 16-group format as int16, groups 0..7 in both 128-bit halves of
    /// <paramref name="low"/> and 8..15 in both halves of <paramref name="high"/>, so that
    /// <see cref="GroupPairScales"/> takes one byte shuffle per level vector.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SplitGroupScales(Vector128<sbyte> scales8, out Vector256<byte> low, out Vector256<byte> high)
    {
        var all = Avx2.ConvertToVector256Int16(scales8).AsByte();
        low = Avx2.Permute2x128(all, all, 0x00);
        high = Avx2.Permute2x128(all, all, 0x11);
    }

    /// <summary>Int16 scales for level vector k of a 16-group format: group 2k in the low 128 bits, 2k+1 in the high
    /// (from the halves of <see cref="SplitGroupScales"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> GroupPairScales(Vector256<byte> low, Vector256<byte> high, int k)
    {
        var lo0 = (byte)(4 * (k & 3));
        var lo1 = (byte)(lo0 + 1);
        var hi0 = (byte)(lo0 + 2);
        var hi1 = (byte)(lo0 + 3);
        var pick = Vector256.Create(lo0, lo1, lo0, lo1, lo0, lo1, lo0, lo1, lo0, lo1, lo0, lo1, lo0, lo1, lo0, lo1,
                                    hi0, hi1, hi0, hi1, hi0, hi1, hi0, hi1, hi0, hi1, hi0, hi1, hi0, hi1, hi0, hi1);
        return Avx2.Shuffle(k < 4 ? low : high, pick).AsInt16();
    }
}
