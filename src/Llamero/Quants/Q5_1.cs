using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q5_1: 32 weights in 24 bytes (6 bits per weight): fp16 scale d, fp16 minimum m, 32 fifth bits and 32
/// nibbles laid out as in <see cref="Q5_0"/>; w = d·q + m. Dotted with <see cref="Q8_1"/> activations.
/// </summary>
public readonly struct Q5_1 : IQuantFormat, ISimdDot, IInt8BlockPair<Q5_1.Block, Q8_1.Block>
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>ggml's block_q5_1.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Block
    {
        /// <summary>Scale, fp16 bits.</summary>
        public ushort D;
        /// <summary>Minimum, fp16 bits.</summary>
        public ushort M;
        /// <summary>Fifth bits, little-endian uint32: bit j belongs to element j.</summary>
        public Bytes4 Qh;
        /// <summary>Low four bits: low nibble = element j, high = element j + 16.</summary>
        public Bytes16 Qs;
    }

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.Q5_1;

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
            var m = Fp16.ToFloat(b.M);
            var qh = Unsafe.ReadUnaligned<uint>(in b.Qh[0]);
            var y = dst.Slice(i * BlockSize, BlockSize);
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var (q0, q1) = Q5_0.Element(in b.Qs, qh, j);
                y[j] = q0 * d + m;
                y[j + BlockSize / 2] = q1 * d + m;
            }
        }
    }

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = BlockRows.Write<Block>(dst, src.Length, BlockSize, Type);
        for (var i = 0; i < blocks.Length; i++)
        {
            var x = src.Slice(i * BlockSize, BlockSize);
            var (min, max) = Q4_1.MinMax(x);
            var d = (max - min) / 31;
            var id = d != 0 ? 1.0f / d : 0.0f;
            ref var b = ref blocks[i];
            b.D = Fp16.FromFloat(d);
            b.M = Fp16.FromFloat(min);
            var qh = 0u;
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var q0 = (byte)Math.Min(31, (int)CFloat.TruncateToInt8((x[j] - min) * id + 0.5f));
                var q1 = (byte)Math.Min(31, (int)CFloat.TruncateToInt8((x[j + BlockSize / 2] - min) * id + 0.5f));
                b.Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= (uint)((q0 & 0x10) >> 4) << j;
                qh |= (uint)((q1 & 0x10) >> 4) << (j + BlockSize / 2);
            }
            Unsafe.WriteUnaligned(ref b.Qh[0], qh);
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
            : Int8BlockDot.On<Q5_1, Block, Q8_1.Block>(level,
                BlockRows.Read<Block>(weights, n, BlockSize, Type), BlockRows.Read<Q8_1.Block>(activations, n, BlockSize, DotPartner));

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
        Int8BlockDot.DotBatch<Q5_1, Block, Q8_1.Block>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<Block>(weights, n, BlockSize, Type);
        var y = BlockRows.Read<Q8_1.Block>(activations, n, BlockSize, DotPartner);
        var sumf = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            var qh = Unsafe.ReadUnaligned<uint>(in x[i].Qh[0]);
            int sumi0 = 0, sumi1 = 0;
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var (q0, q1) = Q5_0.Element(in x[i].Qs, qh, j);
                sumi0 += q0 * y[i].Qs[j];
                sumi1 += q1 * y[i].Qs[j + BlockSize / 2];
            }
            // ggml's _generic, FMA-contracted: sumf += fma(dx·dy, sumi, m·s).
            var dd = Fp16.ToFloat(x[i].D) * Fp16.ToFloat(y[i].D);
            sumf += MathF.FusedMultiplyAdd(dd, sumi0 + sumi1, Fp16.ToFloat(x[i].M) * Fp16.ToFloat(y[i].S));
        }
        return sumf;
    }

    static (Vector128<sbyte> Low, Vector128<sbyte> High) IInt8BlockPair<Block, Q8_1.Block>.Weights(in Block w)
    {
        var (lo, hi) = Nibbles.FiveBit(in w.Qs, in w.Qh);
        return (lo.AsSByte(), hi.AsSByte());
    }

    static Vector256<sbyte> IInt8BlockPair<Block, Q8_1.Block>.Weights256(in Block w) =>
        (Nibbles.Spread(in w.Qs) | (Nibbles.FifthBitMask(in w.Qh) & Vector256.Create((byte)0x10))).AsSByte();

    static bool IInt8BlockPair<Block, Q8_1.Block>.UnsignedWeights => true;
    static float IInt8BlockPair<Block, Q8_1.Block>.WeightScale(in Block w) => Fp16.ToFloat(w.D);
    static bool IInt8BlockPair<Block, Q8_1.Block>.HasOffset => true;
    static float IInt8BlockPair<Block, Q8_1.Block>.WeightMin(in Block w) => Fp16.ToFloat(w.M);
}
