using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>A Q8 activation block (<see cref="Q8_0"/>, <see cref="Q8_1"/>) as the block dot products read it.</summary>
internal interface IQ8Block<TA>
    where TA : unmanaged, IQ8Block<TA>
{
    /// <summary>The 32 quants as one vector.</summary>
    static abstract Vector256<sbyte> Quants(in TA a);

    /// <summary>The 32 quants, elements 0..15 and 16..31.</summary>
    static abstract (Vector128<sbyte> Low, Vector128<sbyte> High) QuantHalves(in TA a);

    /// <summary>d_a, the block scale.</summary>
    static abstract float Scale(in TA a);

    /// <summary>s_a = d_a·Σq_a as stored in Q8_1 blocks (0 for Q8_0).</summary>
    static abstract float Sum(in TA a);
}

/// <summary>
/// What a 32-element block format contributes to its dot product with Q8 activations (<see cref="IQ8Block{TA}"/>):
/// its weights unpacked to bytes, the scale that multiplies the block's integer sum with the activation scale
/// and, for the formats with a minimum (Q4_1, Q5_1), the m that multiplies the activations' s.
/// <see cref="Int8BlockDot"/> holds the loops, specialised per format by the JIT.
/// </summary>
internal interface IInt8BlockPair<TW, TA>
    where TW : unmanaged
    where TA : unmanaged, IQ8Block<TA>
{
    /// <summary>The 32 weights as bytes (signed, or 0..31 when <see cref="UnsignedWeights"/>), elements 0..15 and 16..31.</summary>
    static abstract (Vector128<sbyte> Low, Vector128<sbyte> High) Weights(in TW w);

    /// <summary>The 32 weights as one vector.</summary>
    static abstract Vector256<sbyte> Weights256(in TW w);

    /// <summary>True when the weights are 0..31 (Q4_1, Q5_1): AVX2 multiplies them unsigned, without the sign trick.</summary>
    static abstract bool UnsignedWeights { get; }

    /// <summary>d_w; the block's integer sum is multiplied by d_w·d_a.</summary>
    static abstract float WeightScale(in TW w);

    /// <summary>True when blocks add a constant term m_w·s_a.</summary>
    static abstract bool HasOffset { get; }

    /// <summary>m_w, the block minimum (formats with <see cref="HasOffset"/>).</summary>
    static abstract float WeightMin(in TW w);
}

/// <summary>
/// One SIMD path of the 32-element block dot product, split so that a weight block is decoded once
/// (<see cref="Decode"/>) and then dotted with any number of activation blocks (<see cref="Step"/>). The loops in
/// <see cref="Int8BlockDot"/> run the same steps for one activation row (the dot product) and for four at once
/// (the batch kernel), which is what makes every batch result bit-identical to the single dot.
/// </summary>
internal interface IInt8Lanes<TW, TA, TDecoded, TAcc>
    where TW : unmanaged
    where TA : unmanaged, IQ8Block<TA>
    where TAcc : unmanaged
{
    /// <summary>The weight block unpacked, with its scale and minimum.</summary>
    static abstract TDecoded Decode(in TW w);

    /// <summary><paramref name="acc"/> + d_w·d_a·(Σ q_w·q_a per lane).</summary>
    static abstract TAcc Step(in TDecoded w, in TA a, TAcc acc);

    /// <summary>True when blocks add a constant term (<see cref="Offset"/>).</summary>
    static abstract bool HasOffset { get; }

    /// <summary>m_w·s_a.</summary>
    static abstract float Offset(in TDecoded w, in TA a);

    /// <summary>The dot product from the accumulator and the sum of the offsets.</summary>
    static abstract float Finish(TAcc acc, float offsets);
}

/// <summary>
/// The loops of every 32-element block dot product. As in ggml's AVX2 kernels, blocks are added in order into one
/// accumulator (one FMA per block) and the block minimum terms into one scalar sum, so the AVX2 path's sums are
/// ggml's bit for bit (models then re-quantize the same activations as llama.cpp). Each path's dot product is
/// <see cref="Row"/>; <see cref="Batch"/> runs four activation rows per pass over the weights (four independent
/// chains, each weight block decoded once) with exactly the same per-row operations.
/// </summary>
internal static class Int8BlockDot
{
    /// <summary>The dot product on <paramref name="level"/>; <see cref="SimdLevel.Scalar"/> is not handled here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float On<TOps, TW, TA>(SimdLevel level, ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
    {
        ref var a = ref MemoryMarshal.GetReference(y);
        return level switch
        {
            SimdLevel.Avx512 => Avx512<TOps, TW, TA>(x, y),
            SimdLevel.Avx2 => Row<Avx2Lanes<TOps, TW, TA>, TW, TA, Avx2Lanes<TOps, TW, TA>.Decoded, Vector256<float>>(x, ref a),
            SimdLevel.Vector256 => Row<Vector256Lanes<TOps, TW, TA>, TW, TA, Vector256Lanes<TOps, TW, TA>.Decoded, Vector256<float>>(x, ref a),
            _ => Row<Vector128Lanes<TOps, TW, TA>, TW, TA, Vector128Lanes<TOps, TW, TA>.Decoded, Vector128<float>>(x, ref a),
        };
    }

    /// <summary>
    /// <see cref="IQuantFormat.DotBatch"/> of a 32-element block format on <paramref name="level"/>: arguments
    /// checked, then the scalar reference per row or the path's four-row kernel.
    /// </summary>
    public static void DotBatch<TF, TW, TA>(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int stride,
        int count, int n, Span<float> results, int resultStride)
        where TF : IQuantFormat, IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
    {
        BatchDot.Check<TF>(activations, stride, count, n, results, resultStride);
        var x = BlockRows.Read<TW>(weights, n, 32, TF.Type);
        if (level == SimdLevel.Scalar)
        {
            var rowBytes = x.Length * Unsafe.SizeOf<TA>();
            for (var r = 0; r < count; r++)
                results[r * resultStride] = TF.DotReference(weights, activations.Slice(r * stride, rowBytes), n);
            return;
        }
        BatchOn<TF, TW, TA>(level, x, activations, stride, count, results, resultStride);
    }

    /// <summary>
    /// <paramref name="count"/> activation rows (each <paramref name="x"/>.Length blocks, <paramref name="stride"/>
    /// bytes apart, checked by the caller) against the weight row <paramref name="x"/> on <paramref name="level"/>.
    /// </summary>
    public static void BatchOn<TOps, TW, TA>(SimdLevel level, ReadOnlySpan<TW> x, ReadOnlySpan<byte> activations, int stride, int count,
        Span<float> results, int resultStride)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
    {
        switch (level)
        {
            case SimdLevel.Avx2:
                Batch<Avx2Lanes<TOps, TW, TA>, TW, TA, Avx2Lanes<TOps, TW, TA>.Decoded, Vector256<float>>(
                    x, activations, stride, count, results, resultStride);
                break;
            case SimdLevel.Vector256:
                Batch<Vector256Lanes<TOps, TW, TA>, TW, TA, Vector256Lanes<TOps, TW, TA>.Decoded, Vector256<float>>(
                    x, activations, stride, count, results, resultStride);
                break;
            case SimdLevel.Vector128:
                Batch<Vector128Lanes<TOps, TW, TA>, TW, TA, Vector128Lanes<TOps, TW, TA>.Decoded, Vector128<float>>(
                    x, activations, stride, count, results, resultStride);
                break;
            default:
                // AVX-512 pairs blocks in one register; its batch is one dot per row (same results by construction).
                ref var a = ref MemoryMarshal.GetReference(activations);
                for (var r = 0; r < count; r++)
                    results[r * resultStride] = On<TOps, TW, TA>(level, x,
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, TA>(ref Unsafe.Add(ref a, (nint)r * stride)), x.Length));
                break;
        }
    }

    /// <summary>One weight row against one activation row of as many blocks. Not inlined: the loop needs the whole
    /// inlining budget of its own compilation so that every step is inlined.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Row<TL, TW, TA, TD, TAcc>(ReadOnlySpan<TW> x, ref TA a)
        where TL : IInt8Lanes<TW, TA, TD, TAcc>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
        where TAcc : unmanaged
    {
        ref var w = ref MemoryMarshal.GetReference(x);
        TAcc acc = default;
        var offsets = 0f;
        // Walking refs rather than indexing: no index arithmetic (or multiply by the block size) per block.
        for (var i = 0; i < x.Length; i++, w = ref Unsafe.Add(ref w, 1), a = ref Unsafe.Add(ref a, 1))
        {
            var d = TL.Decode(in w);
            acc = TL.Step(in d, in a, acc);
            if (TL.HasOffset)
                offsets += TL.Offset(in d, in a);
        }
        return TL.Finish(acc, offsets);
    }

    private static void Batch<TL, TW, TA, TD, TAcc>(ReadOnlySpan<TW> x, ReadOnlySpan<byte> activations, int stride, int count,
        Span<float> results, int resultStride)
        where TL : IInt8Lanes<TW, TA, TD, TAcc>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
        where TAcc : unmanaged
    {
        ref var a = ref MemoryMarshal.GetReference(activations);
        var r = 0;
        for (; r + 4 <= count; r += 4)
        {
            var (r0, r1, r2, r3) = Rows4<TL, TW, TA, TD, TAcc>(x,
                ref Unsafe.As<byte, TA>(ref Unsafe.Add(ref a, (nint)r * stride)),
                ref Unsafe.As<byte, TA>(ref Unsafe.Add(ref a, (nint)(r + 1) * stride)),
                ref Unsafe.As<byte, TA>(ref Unsafe.Add(ref a, (nint)(r + 2) * stride)),
                ref Unsafe.As<byte, TA>(ref Unsafe.Add(ref a, (nint)(r + 3) * stride)));
            results[r * resultStride] = r0;
            results[(r + 1) * resultStride] = r1;
            results[(r + 2) * resultStride] = r2;
            results[(r + 3) * resultStride] = r3;
        }
        for (; r < count; r++)
            results[r * resultStride] = Row<TL, TW, TA, TD, TAcc>(x, ref Unsafe.As<byte, TA>(ref Unsafe.Add(ref a, (nint)r * stride)));
    }

    /// <summary>Four activation rows at once: each weight block decoded once, then the steps of <see cref="Row"/> per row.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (float, float, float, float) Rows4<TL, TW, TA, TD, TAcc>(ReadOnlySpan<TW> x, ref TA a0, ref TA a1, ref TA a2, ref TA a3)
        where TL : IInt8Lanes<TW, TA, TD, TAcc>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
        where TAcc : unmanaged
    {
        ref var w = ref MemoryMarshal.GetReference(x);
        TAcc s0 = default, s1 = default, s2 = default, s3 = default;
        float m0 = 0, m1 = 0, m2 = 0, m3 = 0;
        for (var i = 0; i < x.Length; i++, w = ref Unsafe.Add(ref w, 1))
        {
            var d = TL.Decode(in w);
            s0 = TL.Step(in d, in a0, s0);
            s1 = TL.Step(in d, in a1, s1);
            s2 = TL.Step(in d, in a2, s2);
            s3 = TL.Step(in d, in a3, s3);
            if (TL.HasOffset)
            {
                m0 += TL.Offset(in d, in a0);
                m1 += TL.Offset(in d, in a1);
                m2 += TL.Offset(in d, in a2);
                m3 += TL.Offset(in d, in a3);
            }
            a0 = ref Unsafe.Add(ref a0, 1);
            a1 = ref Unsafe.Add(ref a1, 1);
            a2 = ref Unsafe.Add(ref a2, 1);
            a3 = ref Unsafe.Add(ref a3, 1);
        }
        return (TL.Finish(s0, m0), TL.Finish(s1, m1), TL.Finish(s2, m2), TL.Finish(s3, m3));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Avx512<TOps, TW, TA>(ReadOnlySpan<TW> x, ReadOnlySpan<TA> y)
        where TOps : IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
    {
        // Two blocks per 512-bit register: block i in the low half, block i+1 in the high half.
        var acc = Vector512<float>.Zero;
        var summs = 0f;
        var i = 0;
        for (; i + 1 < x.Length; i += 2)
        {
            ref readonly var w0 = ref x[i];
            ref readonly var w1 = ref x[i + 1];
            ref readonly var a0 = ref y[i];
            ref readonly var a1 = ref y[i + 1];
            var d = Vector512.Create(Vector256.Create(TOps.WeightScale(in w0) * TA.Scale(in a0)),
                Vector256.Create(TOps.WeightScale(in w1) * TA.Scale(in a1)));
            var qw = Vector512.Create(TOps.Weights256(in w0), TOps.Weights256(in w1));
            var qa = Vector512.Create(TA.Quants(in a0), TA.Quants(in a1));
            acc = Avx512F.FusedMultiplyAdd(d, Avx512F.ConvertToVector512Single(Int8Dot.Avx512Sum(qw, qa)), acc);
            if (TOps.HasOffset)
                summs += TOps.WeightMin(in w0) * TA.Sum(in a0) + TOps.WeightMin(in w1) * TA.Sum(in a1);
        }
        var acc8 = acc.GetLower() + acc.GetUpper();
        if (i < x.Length)
        {
            ref readonly var w = ref x[i];
            ref readonly var a = ref y[i];
            var sums = Int8Dot.Avx2Sum(TOps.Weights256(in w), TA.Quants(in a));
            acc8 = Fma.MultiplyAdd(Vector256.Create(TOps.WeightScale(in w) * TA.Scale(in a)), Avx.ConvertToVector256Single(sums), acc8);
            if (TOps.HasOffset)
                summs += TOps.WeightMin(in w) * TA.Sum(in a);
        }
        return Int8Dot.HorizontalSum(acc8) + summs;
    }
}

/// <summary>AVX2: maddubs of |w| with sign(a, w) (or of unsigned w with a), madd to int32, one FMA per block.</summary>
internal readonly struct Avx2Lanes<TOps, TW, TA> : IInt8Lanes<TW, TA, Avx2Lanes<TOps, TW, TA>.Decoded, Vector256<float>>
    where TOps : IInt8BlockPair<TW, TA>
    where TW : unmanaged
    where TA : unmanaged, IQ8Block<TA>
{
    /// <summary>A decoded weight block: the signs to move onto the activations, the magnitudes, scale and minimum.</summary>
    internal readonly struct Decoded(Vector256<sbyte> signs, Vector256<byte> magnitudes, float scale, float min)
    {
        public readonly Vector256<sbyte> Signs = signs;
        public readonly Vector256<byte> Magnitudes = magnitudes;
        public readonly float Scale = scale;
        public readonly float Min = min;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Decoded Decode(in TW w)
    {
        var q = TOps.Weights256(in w);
        return new Decoded(q, TOps.UnsignedWeights ? q.AsByte() : Avx2.Sign(q, q).AsByte(), TOps.WeightScale(in w),
            TOps.HasOffset ? TOps.WeightMin(in w) : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Step(in Decoded w, in TA a, Vector256<float> acc)
    {
        var qa = TA.Quants(in a);
        var pairs = Avx2.MultiplyAddAdjacent(w.Magnitudes, TOps.UnsignedWeights ? qa : Avx2.Sign(qa, w.Signs));
        var sums = Avx2.MultiplyAddAdjacent(pairs, Vector256.Create((short)1));
        return Fma.MultiplyAdd(Vector256.Create(w.Scale * TA.Scale(in a)), Avx.ConvertToVector256Single(sums), acc);
    }

    public static bool HasOffset => TOps.HasOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Offset(in Decoded w, in TA a) => w.Min * TA.Sum(in a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(Vector256<float> acc, float offsets) => Int8Dot.HorizontalSum(acc) + offsets;
}

/// <summary>Portable 256-bit: widening multiplies to int32 sums, multiply then add per block.</summary>
internal readonly struct Vector256Lanes<TOps, TW, TA> : IInt8Lanes<TW, TA, Vector256Lanes<TOps, TW, TA>.Decoded, Vector256<float>>
    where TOps : IInt8BlockPair<TW, TA>
    where TW : unmanaged
    where TA : unmanaged, IQ8Block<TA>
{
    /// <summary>A decoded weight block.</summary>
    internal readonly struct Decoded(Vector256<sbyte> q, float scale, float min)
    {
        public readonly Vector256<sbyte> Q = q;
        public readonly float Scale = scale;
        public readonly float Min = min;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Decoded Decode(in TW w) =>
        new(TOps.Weights256(in w), TOps.WeightScale(in w), TOps.HasOffset ? TOps.WeightMin(in w) : 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Step(in Decoded w, in TA a, Vector256<float> acc) =>
        acc + Vector256.Create(w.Scale * TA.Scale(in a)) * Vector256.ConvertToSingle(Int8Dot.Vector256Sum(w.Q, TA.Quants(in a)));

    public static bool HasOffset => TOps.HasOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Offset(in Decoded w, in TA a) => w.Min * TA.Sum(in a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(Vector256<float> acc, float offsets) => Vector256.Sum(acc) + offsets;
}

/// <summary>Portable 128-bit: each block as two halves, widening multiplies, multiply then add per block.</summary>
internal readonly struct Vector128Lanes<TOps, TW, TA> : IInt8Lanes<TW, TA, Vector128Lanes<TOps, TW, TA>.Decoded, Vector128<float>>
    where TOps : IInt8BlockPair<TW, TA>
    where TW : unmanaged
    where TA : unmanaged, IQ8Block<TA>
{
    /// <summary>A decoded weight block.</summary>
    internal readonly struct Decoded(Vector128<sbyte> low, Vector128<sbyte> high, float scale, float min)
    {
        public readonly Vector128<sbyte> Low = low;
        public readonly Vector128<sbyte> High = high;
        public readonly float Scale = scale;
        public readonly float Min = min;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Decoded Decode(in TW w)
    {
        var (low, high) = TOps.Weights(in w);
        return new Decoded(low, high, TOps.WeightScale(in w), TOps.HasOffset ? TOps.WeightMin(in w) : 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Step(in Decoded w, in TA a, Vector128<float> acc)
    {
        var (a0, a1) = TA.QuantHalves(in a);
        return acc + Vector128.Create(w.Scale * TA.Scale(in a)) * Vector128.ConvertToSingle(Int8Dot.Vector128Sum(w.Low, w.High, a0, a1));
    }

    public static bool HasOffset => TOps.HasOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Offset(in Decoded w, in TA a) => w.Min * TA.Sum(in a);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Finish(Vector128<float> acc, float offsets) => Vector128.Sum(acc) + offsets;
}
