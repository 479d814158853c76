using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q8_0: 32 weights in 34 bytes (8.5 bits per weight): an fp16 scale d and 32 signed bytes q; w = d·q.
/// Also the activation format Q4_0, Q5_0 and Q8_0 weights are dotted with.
/// </summary>
public readonly struct Q8_0 : IQuantFormat, ISimdDot, IInt8BlockPair<Q8_0.Block, Q8_0.Block>
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>ggml's block_q8_0.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Block : IQ8Block<Block>
    {
        /// <summary>Scale, fp16 bits.</summary>
        public ushort D;
        /// <summary>Quants, -127..127 from the quantizers.</summary>
        public SBytes32 Qs;

        static Vector256<sbyte> IQ8Block<Block>.Quants(in Block a) => Quants(in a);
        static (Vector128<sbyte> Low, Vector128<sbyte> High) IQ8Block<Block>.QuantHalves(in Block a) => QuantHalves(in a);
        static float IQ8Block<Block>.Scale(in Block a) => Fp16.ToFloat(a.D);
        static float IQ8Block<Block>.Sum(in Block a) => 0;
    }

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.Q8_0;

    /// <inheritdoc />
    public static GgmlType DotPartner => GgmlType.Q8_0;

    /// <inheritdoc />
    public static void Dequantize(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = BlockRows.Read<Block>(src, dst.Length, BlockSize, Type);
        for (var i = 0; i < blocks.Length; i++)
        {
            ref readonly var b = ref blocks[i];
            var d = Fp16.ToFloat(b.D);
            var y = dst.Slice(i * BlockSize, BlockSize);
            for (var j = 0; j < BlockSize; j++)
                y[j] = b.Qs[j] * d;
        }
    }

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = BlockRows.Write<Block>(dst, src.Length, BlockSize, Type);
        for (var i = 0; i < blocks.Length; i++)
        {
            var x = src.Slice(i * BlockSize, BlockSize);
            var amax = 0f;
            foreach (var v in x)
                amax = MathF.Max(amax, MathF.Abs(v));
            var d = amax / 127;
            var id = d != 0 ? 1.0f / d : 0.0f;
            ref var b = ref blocks[i];
            b.D = Fp16.FromFloat(d);
            for (var j = 0; j < BlockSize; j++)
                b.Qs[j] = CFloat.TruncateToInt8(CFloat.RoundF(x[j] * id));
        }
    }

    /// <summary>
    /// Quantizes activations the way ggml's x86 CPU backend does before a dot product (quantize_row_q8_0 with
    /// AVX2/AVX-512): multiplier 127/amax instead of 1/d, rounding half to even, saturating packs. It differs
    /// from <see cref="Quantize"/> in rare last-bit cases; using it keeps Llamero's sums on llama.cpp's.
    /// </summary>
    public static void QuantizeForDot(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = BlockRows.Write<Block>(dst, src.Length, BlockSize, Type);
        for (var i = 0; i < blocks.Length; i++)
        {
            var x = src.Slice(i * BlockSize, BlockSize);
            ref var b = ref blocks[i];
            if (TryQuantizeBlockAvx2(x, ref b.Qs[0], out var vmax, out _))
            {
                b.D = Fp16.FromFloat(vmax / 127f);
                continue;
            }
            var amax = AbsMax(x);
            var id = amax != 0 ? 127f / amax : 0f;
            b.D = Fp16.FromFloat(amax / 127f);
            for (var j = 0; j < BlockSize; j++)
                b.Qs[j] = (sbyte)Math.Clamp(CvtRoundEven(x[j] * id), sbyte.MinValue, sbyte.MaxValue);
        }
    }

    /// <summary>
    /// One block of <see cref="QuantizeForDot"/> with AVX2, exactly the scalar loop's results (and ggml's): the same
    /// amax, multiplier and rounding, then saturating packs. <paramref name="sum"/> is the sum of the unsaturated
    /// int32 quants (Q8_1's s). False without AVX2 or when the block holds a NaN (the scalar max keeps NaN, a vector
    /// max does not), leaving the block to the scalar loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryQuantizeBlockAvx2(ReadOnlySpan<float> x, ref sbyte q, out float amax, out int sum)
    {
        amax = 0;
        sum = 0;
        if (!Avx2.IsSupported)
            return false;
        ref var p = ref MemoryMarshal.GetReference(x);
        var x0 = Vector256.LoadUnsafe(ref p);
        var x1 = Vector256.LoadUnsafe(ref p, 8);
        var x2 = Vector256.LoadUnsafe(ref p, 16);
        var x3 = Vector256.LoadUnsafe(ref p, 24);
        var nan = Avx.CompareUnordered(x0, x1) | Avx.CompareUnordered(x2, x3);
        if (!Vector256.EqualsAll(nan.AsInt32(), Vector256<int>.Zero))
            return false;
        var max = Vector256.Max(Vector256.Max(Vector256.Abs(x0), Vector256.Abs(x1)), Vector256.Max(Vector256.Abs(x2), Vector256.Abs(x3)));
        var max4 = Vector128.Max(max.GetLower(), max.GetUpper());
        max4 = Vector128.Max(max4, Vector128.Shuffle(max4, Vector128.Create(2, 3, 0, 1)));
        amax = MathF.Max(max4.GetElement(0), max4.GetElement(1));
        var id = Vector256.Create(amax != 0 ? 127f / amax : 0f);
        var i0 = Avx.ConvertToVector256Int32WithTruncation(Avx.RoundToNearestInteger(x0 * id));
        var i1 = Avx.ConvertToVector256Int32WithTruncation(Avx.RoundToNearestInteger(x1 * id));
        var i2 = Avx.ConvertToVector256Int32WithTruncation(Avx.RoundToNearestInteger(x2 * id));
        var i3 = Avx.ConvertToVector256Int32WithTruncation(Avx.RoundToNearestInteger(x3 * id));
        // int32 → int16 → int8 with saturation; the packs interleave 128-bit lanes, the permute restores order.
        var packed = Avx2.PackSignedSaturate(Avx2.PackSignedSaturate(i0, i1), Avx2.PackSignedSaturate(i2, i3));
        Avx2.PermuteVar8x32(packed.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte().StoreUnsafe(ref q);
        sum = Vector256.Sum((i0 + i1) + (i2 + i3));
        return true;
    }

    /// <summary>Largest |x| of a block (NaN-free input).</summary>
    internal static float AbsMax(ReadOnlySpan<float> x)
    {
        var amax = 0f;
        foreach (var v in x)
            amax = MathF.Max(amax, MathF.Abs(v));
        return amax;
    }

    /// <summary><c>_mm256_cvtps_epi32(_mm256_round_ps(v, nearest))</c>: ties to even, int.MinValue when out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int CvtRoundEven(float v) => CFloat.TruncateToInt32(MathF.Round(v, MidpointRounding.ToEven));

    /// <inheritdoc />
    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(SimdPath.Current, weights, activations, n);

    /// <inheritdoc />
    static float ISimdDot.DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(level, weights, activations, n);

    internal static float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        level == SimdLevel.Scalar
            ? DotReference(weights, activations, n)
            : Int8BlockDot.On<Q8_0, Block, Block>(level,
                BlockRows.Read<Block>(weights, n, BlockSize, Type), BlockRows.Read<Block>(activations, n, BlockSize, DotPartner));

    /// <inheritdoc />
    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        DotBatchOn(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <inheritdoc />
    static void ISimdDot.DotBatchOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
        int count, int n, Span<float> results, int resultStride) =>
        DotBatchOn(level, weights, activations, activationStride, count, n, results, resultStride);

    internal static void DotBatchOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
        int count, int n, Span<float> results, int resultStride) =>
        Int8BlockDot.DotBatch<Q8_0, Block, Block>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<Block>(weights, n, BlockSize, Type);
        var y = BlockRows.Read<Block>(activations, n, BlockSize, Type);
        var sumf = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            var sumi = 0;
            for (var j = 0; j < BlockSize; j++)
                sumi += x[i].Qs[j] * y[i].Qs[j];
            // ggml's _generic is compiled with FMA contraction: sumf = fma(sumi, dx·dy, sumf).
            sumf = MathF.FusedMultiplyAdd(sumi, Fp16.ToFloat(x[i].D) * Fp16.ToFloat(y[i].D), sumf);
        }
        return sumf;
    }

    static (Vector128<sbyte> Low, Vector128<sbyte> High) IInt8BlockPair<Block, Block>.Weights(in Block w) => QuantHalves(in w);
    static Vector256<sbyte> IInt8BlockPair<Block, Block>.Weights256(in Block w) => Quants(in w);
    static bool IInt8BlockPair<Block, Block>.UnsignedWeights => false;
    static float IInt8BlockPair<Block, Block>.WeightScale(in Block w) => Fp16.ToFloat(w.D);
    static bool IInt8BlockPair<Block, Block>.HasOffset => false;
    static float IInt8BlockPair<Block, Block>.WeightMin(in Block w) => 0;

    /// <summary>The 32 quants of a block as one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<sbyte> Quants(in Block b) =>
        Vector256.LoadUnsafe(ref Unsafe.AsRef(in b.Qs[0]));

    /// <summary>The 32 quants of a block as two 16-byte vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (Vector128<sbyte>, Vector128<sbyte>) QuantHalves(in Block b)
    {
        ref var q = ref Unsafe.AsRef(in b.Qs[0]);
        return (Vector128.LoadUnsafe(ref q), Vector128.LoadUnsafe(ref q, 16));
    }
}
