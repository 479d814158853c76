using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llamero.Kernels;

/// <summary>
/// The two loops of attention over a block of cached rows (row t at <c>rows[t * stride ..]</c>, one head wide):
/// <see cref="Scores"/> (K·q for each row) and <see cref="WeightedSum"/> (Σ w[t]·V[t]). The AVX2 paths work on
/// several rows at once: eight dot products reduced together by one horizontal-add tree, and the output head held in
/// registers across rows instead of loaded and stored per row. Other levels run the row-by-row
/// <see cref="VectorOps"/> loops. Each has a scalar specification beside it (<see cref="ScoresReference"/>,
/// <see cref="WeightedSumReference"/>).
/// </summary>
internal static class AttentionBlocks
{
    /// <summary>scores[t] = (q · rows[t]) · scale for t &lt; <paramref name="count"/>, q being <paramref name="query"/>'s
    /// full length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scores(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int stride, int count, float scale, Span<float> scores, SimdLevel level)
    {
        var n = query.Length;
        Check(rows, stride, count, n, scores.Length);
        var t = 0;
        if (level >= SimdLevel.Avx2 && Avx.IsSupported && Fma.IsSupported && n % 8 == 0)
            t = ScoresAvx2(query, rows, stride, count, scale, scores);
        for (; t < count; t++)
            scores[t] = VectorOps.Dot(query, rows.Slice(t * stride, n), level) * scale;
    }

    /// <summary>output[i] += Σ_t weights[t] · rows[t][i] for t &lt; <paramref name="count"/>, i &lt; output's length,
    /// each element summed in row order with one fused multiply-add per row (as repeated
    /// <see cref="VectorOps.MultiplyAdd"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WeightedSum(ReadOnlySpan<float> weights, ReadOnlySpan<float> rows, int stride, int count, Span<float> output, SimdLevel level)
    {
        var n = output.Length;
        Check(rows, stride, count, n, weights.Length);
        if (level >= SimdLevel.Avx2 && Avx.IsSupported && Fma.IsSupported && n % 8 == 0)
        {
            WeightedSumAvx2(weights, rows, stride, count, output);
            return;
        }
        for (var t = 0; t < count; t++)
            VectorOps.MultiplyAdd(rows.Slice(t * stride, n), weights[t], output, level);
    }

    /// <summary>The specification of <see cref="Scores"/>: one plain loop per row.</summary>
    public static void ScoresReference(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int stride, int count, float scale, Span<float> scores)
    {
        for (var t = 0; t < count; t++)
        {
            var dot = 0f;
            for (var i = 0; i < query.Length; i++)
                dot += query[i] * rows[t * stride + i];
            scores[t] = dot * scale;
        }
    }

    /// <summary>The specification of <see cref="WeightedSum"/>.</summary>
    public static void WeightedSumReference(ReadOnlySpan<float> weights, ReadOnlySpan<float> rows, int stride, int count, Span<float> output)
    {
        for (var t = 0; t < count; t++)
            for (var i = 0; i < output.Length; i++)
                output[i] = MathF.FusedMultiplyAdd(rows[t * stride + i], weights[t], output[i]);
    }

    private static void Check(ReadOnlySpan<float> rows, int stride, int count, int width, int perRow)
    {
        if (count < 0 || perRow < count || count > 0 && (long)(count - 1) * stride + width > rows.Length)
            throw new ArgumentException($"Attention block: {count} rows of {width} at stride {stride} do not fit {rows.Length} floats or {perRow} scores.");
    }

    // Eight rows at a time: eight accumulators against one query load, reduced by a horizontal-add tree into the
    // eight scores. Returns the rows done; the caller finishes the rest.
    private static int ScoresAvx2(ReadOnlySpan<float> query, ReadOnlySpan<float> rows, int stride, int count, float scale, Span<float> scores)
    {
        var n = query.Length;
        ref var q = ref MemoryMarshal.GetReference(query);
        ref var s = ref MemoryMarshal.GetReference(scores);
        var scaleV = Vector256.Create(scale);
        var t = 0;
        for (; t + 8 <= count; t += 8)
        {
            ref var r0 = ref Unsafe.Add(ref MemoryMarshal.GetReference(rows), t * stride);
            ref var r1 = ref Unsafe.Add(ref r0, stride);
            ref var r2 = ref Unsafe.Add(ref r1, stride);
            ref var r3 = ref Unsafe.Add(ref r2, stride);
            ref var r4 = ref Unsafe.Add(ref r3, stride);
            ref var r5 = ref Unsafe.Add(ref r4, stride);
            ref var r6 = ref Unsafe.Add(ref r5, stride);
            ref var r7 = ref Unsafe.Add(ref r6, stride);
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (nuint i = 0; i < (nuint)n; i += 8)
            {
                var qv = Vector256.LoadUnsafe(ref q, i);
                a0 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r0, i), a0);
                a1 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r1, i), a1);
                a2 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r2, i), a2);
                a3 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r3, i), a3);
                a4 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r4, i), a4);
                a5 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r5, i), a5);
                a6 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r6, i), a6);
                a7 = Fma.MultiplyAdd(qv, Vector256.LoadUnsafe(ref r7, i), a7);
            }
            (Reduce8(a0, a1, a2, a3, a4, a5, a6, a7) * scaleV).StoreUnsafe(ref s, (nuint)t);
        }
        for (; t < count; t++)
        {
            ref var r = ref Unsafe.Add(ref MemoryMarshal.GetReference(rows), t * stride);
            var a = Vector256<float>.Zero;
            for (nuint i = 0; i < (nuint)n; i += 8)
                a = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref q, i), Vector256.LoadUnsafe(ref r, i), a);
            Unsafe.Add(ref s, t) = Vector256.Sum(a) * scale;
        }
        return t;
    }

    // [Σa0, Σa1, ..., Σa7]: two rounds of horizontal adds leave, per 128-bit lane, the four lane sums of a0..a3
    // (and a4..a7); adding the lanes finishes them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Reduce8(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3,
        Vector256<float> a4, Vector256<float> a5, Vector256<float> a6, Vector256<float> a7)
    {
        var low = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
        var high = Avx.HorizontalAdd(Avx.HorizontalAdd(a4, a5), Avx.HorizontalAdd(a6, a7));
        return Avx.Permute2x128(low, high, 0x20) + Avx.Permute2x128(low, high, 0x31);
    }

    // The output head in registers, 64 floats (eight vectors) at a time, across all rows; one vector at a time for a
    // remainder under 64.
    private static void WeightedSumAvx2(ReadOnlySpan<float> weights, ReadOnlySpan<float> rows, int stride, int count, Span<float> output)
    {
        var n = output.Length;
        ref var w = ref MemoryMarshal.GetReference(weights);
        ref var o = ref MemoryMarshal.GetReference(output);
        ref var rows0 = ref MemoryMarshal.GetReference(rows);
        var c = 0;
        for (; c + 64 <= n; c += 64)
        {
            ref var oc = ref Unsafe.Add(ref o, c);
            var o0 = Vector256.LoadUnsafe(ref oc, 0);
            var o1 = Vector256.LoadUnsafe(ref oc, 8);
            var o2 = Vector256.LoadUnsafe(ref oc, 16);
            var o3 = Vector256.LoadUnsafe(ref oc, 24);
            var o4 = Vector256.LoadUnsafe(ref oc, 32);
            var o5 = Vector256.LoadUnsafe(ref oc, 40);
            var o6 = Vector256.LoadUnsafe(ref oc, 48);
            var o7 = Vector256.LoadUnsafe(ref oc, 56);
            ref var r = ref Unsafe.Add(ref rows0, c);
            for (var t = 0; t < count; t++, r = ref Unsafe.Add(ref r, stride))
            {
                var wt = Vector256.Create(Unsafe.Add(ref w, t));
                o0 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 0), wt, o0);
                o1 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 8), wt, o1);
                o2 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 16), wt, o2);
                o3 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 24), wt, o3);
                o4 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 32), wt, o4);
                o5 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 40), wt, o5);
                o6 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 48), wt, o6);
                o7 = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r, 56), wt, o7);
            }
            o0.StoreUnsafe(ref oc, 0);
            o1.StoreUnsafe(ref oc, 8);
            o2.StoreUnsafe(ref oc, 16);
            o3.StoreUnsafe(ref oc, 24);
            o4.StoreUnsafe(ref oc, 32);
            o5.StoreUnsafe(ref oc, 40);
            o6.StoreUnsafe(ref oc, 48);
            o7.StoreUnsafe(ref oc, 56);
        }
        for (; c < n; c += 8)
        {
            var acc = Vector256.LoadUnsafe(ref o, (nuint)c);
            ref var r = ref Unsafe.Add(ref rows0, c);
            for (var t = 0; t < count; t++, r = ref Unsafe.Add(ref r, stride))
                acc = Fma.MultiplyAdd(Vector256.LoadUnsafe(ref r), Vector256.Create(Unsafe.Add(ref w, t)), acc);
            acc.StoreUnsafe(ref o, (nuint)c);
        }
    }
}
