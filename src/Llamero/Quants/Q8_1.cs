using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q8_1: 32 values in 36 bytes: fp16 scale d, fp16 s = d·Σq, and 32 signed bytes q; x = d·q. The activation
/// format Q4_1 and Q5_1 weights are dotted with (s carries the activation sum their minimum multiplies).
/// ggml defines no dot product for Q8_1 rows themselves; <see cref="Dot"/> here is Σ d_x·d_y·Σq_x·q_y.
/// </summary>
public readonly struct Q8_1 : IQuantFormat, ISimdDot, IInt8BlockPair<Q8_1.Block, Q8_1.Block>
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>ggml's block_q8_1.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Block : IQ8Block<Block>
    {
        /// <summary>Scale, fp16 bits.</summary>
        public ushort D;
        /// <summary>d·Σq, fp16 bits.</summary>
        public ushort S;
        /// <summary>Quants.</summary>
        public SBytes32 Qs;

        static Vector256<sbyte> IQ8Block<Block>.Quants(in Block a) => Quants(in a);
        static (Vector128<sbyte> Low, Vector128<sbyte> High) IQ8Block<Block>.QuantHalves(in Block a) => QuantHalves(in a);
        static float IQ8Block<Block>.Scale(in Block a) => Fp16.ToFloat(a.D);
        static float IQ8Block<Block>.Sum(in Block a) => Fp16.ToFloat(a.S);
    }

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.Q8_1;

    /// <inheritdoc />
    public static GgmlType DotPartner => GgmlType.Q8_1;

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
            var d = Q8_0.AbsMax(x) / 127;
            var id = d != 0 ? 1.0f / d : 0.0f;
            ref var b = ref blocks[i];
            b.D = Fp16.FromFloat(d);
            var sum = 0;
            for (var j = 0; j < BlockSize; j++)
            {
                b.Qs[j] = CFloat.TruncateToInt8(CFloat.RoundF(x[j] * id));
                sum += b.Qs[j];
            }
            b.S = Fp16.FromFloat(sum * d);
        }
    }

    /// <summary>
    /// Quantizes activations as ggml's x86 CPU backend does (quantize_row_q8_1 with AVX2): multiplier 127/amax,
    /// ties to even, saturating packs, and s from the unsaturated int32 quants. See <see cref="Q8_0.QuantizeForDot"/>.
    /// </summary>
    public static void QuantizeForDot(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = BlockRows.Write<Block>(dst, src.Length, BlockSize, Type);
        for (var i = 0; i < blocks.Length; i++)
        {
            var x = src.Slice(i * BlockSize, BlockSize);
            ref var b = ref blocks[i];
            if (Q8_0.TryQuantizeBlockAvx2(x, ref b.Qs[0], out var vmax, out var vsum))
            {
                b.D = Fp16.FromFloat(vmax / 127f);
                b.S = Fp16.FromFloat(vmax / 127f * vsum);
                continue;
            }
            var amax = Q8_0.AbsMax(x);
            var d = amax / 127f;
            var id = amax != 0 ? 127f / amax : 0f;
            b.D = Fp16.FromFloat(d);
            var sum = 0;
            for (var j = 0; j < BlockSize; j++)
            {
                var q = Q8_0.CvtRoundEven(x[j] * id);
                sum = unchecked(sum + q);
                b.Qs[j] = (sbyte)Math.Clamp(q, sbyte.MinValue, sbyte.MaxValue);
            }
            b.S = Fp16.FromFloat(d * sum);
        }
    }

    /// <inheritdoc />
    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(SimdPath.Current, weights, activations, n);

    /// <inheritdoc />
    static float ISimdDot.DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        DotOn(level, weights, activations, n);

    internal static float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        level == SimdLevel.Scalar
            ? DotReference(weights, activations, n)
            : Int8BlockDot.On<Q8_1, Block, Block>(level,
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
        Int8BlockDot.DotBatch<Q8_1, Block, Block>(level, weights, activations, activationStride, count, n, results, resultStride);

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
            sumf += sumi * (Fp16.ToFloat(x[i].D) * Fp16.ToFloat(y[i].D));
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
