using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// The AVX2 kernel of K·q over a block-quantized key cache whose weights are signed and whose dot partner is Q8_0
/// (Q8_0, Q4_0, Q5_0 keys): eight positions at a time, their key blocks unpacked once into bytes and scales, then for
/// each query head eight accumulators (one per position) that take one fused multiply-add per 32-element block, as
/// ggml's block dot does, and one horizontal-add tree for the eight scores. The integer block sums are exactly ggml's;
/// only the final sum of each position's eight lanes is ordered differently, so a score differs from the format's
/// dot product by float rounding at most.
/// </summary>
internal static class QuantizedKeyScores
{
    /// <summary>A key block format as this kernel reads it: its 32 weights as signed bytes and its scale.</summary>
    internal interface IKeyBlocks<TW>
        where TW : unmanaged
    {
        /// <summary>The 32 weights, signed.</summary>
        static abstract Vector256<sbyte> Weights(in TW w);

        /// <summary>The block scale.</summary>
        static abstract float Scale(in TW w);
    }

    /// <summary>Positions per pass.</summary>
    public const int Rows = 8;

    [ThreadStatic] private static byte[]? _quants;   // (Rows, blocks, 32) the unpacked key weights of a pass (not Q8_0)
    [ThreadStatic] private static float[]? _scales;  // (Rows, blocks) their block scales

    /// <summary>Whether this kernel runs here (AVX2 and FMA).</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// Scores of the first <c>count / 8 * 8</c> key rows of <paramref name="keys"/> (rows of <paramref name="blocks"/>
    /// blocks one after another) against the <paramref name="heads"/> Q8_0 query rows: head g's score of row t goes to
    /// <c>scores[g * scoresStride + t]</c>, multiplied by <paramref name="scale"/>. Returns the rows done.
    /// </summary>
    public static int Run<TF, TW>(ReadOnlySpan<TW> keys, int count, int blocks, ReadOnlySpan<Q8_0.Block> queries, int heads, float scale,
        Span<float> scores, int scoresStride)
        where TF : IKeyBlocks<TW>
        where TW : unmanaged
    {
        var done = count / Rows * Rows;
        if (done == 0)
            return 0;
        var quants = CacheAttention.Scratch(ref _quants, Rows * blocks * 32);
        var scales = CacheAttention.Scratch(ref _scales, Rows * blocks);
        ref var q0 = ref MemoryMarshal.GetReference(quants);
        ref var d0 = ref MemoryMarshal.GetReference(scales);
        ref var k0 = ref MemoryMarshal.GetReference(keys);
        ref var a0 = ref MemoryMarshal.GetReference(queries);
        ref var s0 = ref MemoryMarshal.GetReference(scores);
        var scaleV = Vector256.Create(scale);
        // Q8_0 weights are bytes already: read them where they lie (2 bytes of scale, then 32 quants, per block).
        var direct = typeof(TW) == typeof(Q8_0.Block);
        int blockStride = direct ? Unsafe.SizeOf<TW>() : 32, rowStride = blocks * blockStride;
        for (var t0 = 0; t0 < done; t0 += Rows)
        {
            // Unpack the eight rows' blocks: weights as signed bytes, scales as floats, row r block b at r * blocks + b.
            for (var i = 0; i < Rows * blocks; i++)
            {
                ref readonly var w = ref Unsafe.Add(ref k0, t0 * blocks + i);
                if (!direct)
                    TF.Weights(in w).AsByte().StoreUnsafe(ref q0, (nuint)(i * 32));
                Unsafe.Add(ref d0, i) = TF.Scale(in w);
            }
            ref var weights = ref direct ? ref Unsafe.Add(ref Unsafe.As<TW, byte>(ref Unsafe.Add(ref k0, t0 * blocks)), 2) : ref q0;
            for (var g = 0; g < heads; g++)
            {
                var acc = Head(ref weights, blockStride, rowStride, ref d0, ref Unsafe.Add(ref a0, g * blocks), blocks);
                (acc * scaleV).StoreUnsafe(ref s0, (nuint)(g * scoresStride + t0));
            }
        }
        return done;
    }

    // One query head against the eight unpacked rows: the eight scores (unscaled), in position order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Head(ref byte q0, int blockStride, int rowBytes, ref float d0, ref Q8_0.Block a, int blocks)
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        var ones = Vector256.Create((short)1);
        for (var b = 0; b < blocks; b++)
        {
            ref readonly var ab = ref Unsafe.Add(ref a, b);
            var qa = Q8_0.Quants(in ab);
            var magnitudes = Avx2.Sign(qa, qa).AsByte(); // |q|, so the key carries q's sign: maddubs(|q|, sign(k, q))
            var da = Fp16.ToFloat(ab.D);
            ref var k = ref Unsafe.Add(ref q0, b * blockStride);
            ref var d = ref Unsafe.Add(ref d0, b);
            c0 = Step(c0, magnitudes, qa, ref k, 0, da * d, ones);
            c1 = Step(c1, magnitudes, qa, ref k, rowBytes, da * Unsafe.Add(ref d, blocks), ones);
            c2 = Step(c2, magnitudes, qa, ref k, 2 * rowBytes, da * Unsafe.Add(ref d, 2 * blocks), ones);
            c3 = Step(c3, magnitudes, qa, ref k, 3 * rowBytes, da * Unsafe.Add(ref d, 3 * blocks), ones);
            c4 = Step(c4, magnitudes, qa, ref k, 4 * rowBytes, da * Unsafe.Add(ref d, 4 * blocks), ones);
            c5 = Step(c5, magnitudes, qa, ref k, 5 * rowBytes, da * Unsafe.Add(ref d, 5 * blocks), ones);
            c6 = Step(c6, magnitudes, qa, ref k, 6 * rowBytes, da * Unsafe.Add(ref d, 6 * blocks), ones);
            c7 = Step(c7, magnitudes, qa, ref k, 7 * rowBytes, da * Unsafe.Add(ref d, 7 * blocks), ones);
        }
        return AttentionBlocks.Reduce8(c0, c1, c2, c3, c4, c5, c6, c7);
    }

    // acc + d·(Σ q·k per lane) for one 32-element block, the integer sums as ggml's AVX2 block dot forms them.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(Vector256<float> acc, Vector256<byte> magnitudes, Vector256<sbyte> qa, ref byte k, int offset, float d,
        Vector256<short> ones)
    {
        var kw = Vector256.LoadUnsafe(ref k, (nuint)offset).AsSByte();
        var sums = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(magnitudes, Avx2.Sign(kw, qa)), ones);
        return Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sums), acc);
    }
}
