using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q5_0: 32 weights in 22 bytes (5.5 bits per weight): fp16 scale d, 32 fifth bits qh (bit j = element j) and
/// 32 nibbles (low nibble of byte j = element j, high = element j+16); w = d·(q − 16). Dotted with <see cref="Q8_0"/>.
/// </summary>
public readonly struct Q5_0 : IQuantFormat, ISimdDot, IInt8BlockPair<Q5_0.Block, Q8_0.Block>
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>ggml's block_q5_0.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Block
    {
        /// <summary>Scale, fp16 bits.</summary>
        public ushort D;
        /// <summary>Fifth bits, little-endian uint32: bit j belongs to element j.</summary>
        public Bytes4 Qh;
        /// <summary>Low four bits: low nibble = element j, high = element j + 16.</summary>
        public Bytes16 Qs;
    }

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.Q5_0;

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
            var qh = Unsafe.ReadUnaligned<uint>(in b.Qh[0]);
            var y = dst.Slice(i * BlockSize, BlockSize);
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var (q0, q1) = Element(in b, qh, j);
                y[j] = (q0 - 16) * d;
                y[j + BlockSize / 2] = (q1 - 16) * d;
            }
        }
    }

    /// <summary>Elements j and j+16 of a Q5 block (0..31), given its fifth bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static (int, int) Element(in Bytes16 qs, uint qh, int j) =>
        ((qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10), (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10));

    private static (int, int) Element(in Block b, uint qh, int j) => Element(in b.Qs, qh, j);

    /// <inheritdoc />
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = BlockRows.Write<Block>(dst, src.Length, BlockSize, Type);
        for (var i = 0; i < blocks.Length; i++)
        {
            var x = src.Slice(i * BlockSize, BlockSize);
            var d = Q4_0.SignedAbsMax(x) / -16;
            var id = d != 0 ? 1.0f / d : 0.0f;
            ref var b = ref blocks[i];
            b.D = Fp16.FromFloat(d);
            var qh = 0u;
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var q0 = (byte)Math.Min(31, (int)CFloat.TruncateToInt8(x[j] * id + 16.5f));
                var q1 = (byte)Math.Min(31, (int)CFloat.TruncateToInt8(x[j + BlockSize / 2] * id + 16.5f));
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
            : Int8BlockDot.On<Q5_0, Block, Q8_0.Block>(level,
                BlockRows.Read<Block>(weights, n, BlockSize, Type), BlockRows.Read<Q8_0.Block>(activations, n, BlockSize, DotPartner));

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
        Int8BlockDot.DotBatch<Q5_0, Block, Q8_0.Block>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<Block>(weights, n, BlockSize, Type);
        var y = BlockRows.Read<Q8_0.Block>(activations, n, BlockSize, DotPartner);
        var sumf = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            var qh = Unsafe.ReadUnaligned<uint>(in x[i].Qh[0]);
            int sumi0 = 0, sumi1 = 0;
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var (q0, q1) = Element(in x[i], qh, j);
                sumi0 += (q0 - 16) * y[i].Qs[j];
                sumi1 += (q1 - 16) * y[i].Qs[j + BlockSize / 2];
            }
            // ggml's _generic, FMA-contracted: sumf = fma(dx·dy, sumi, sumf).
            sumf = MathF.FusedMultiplyAdd(Fp16.ToFloat(x[i].D) * Fp16.ToFloat(y[i].D), sumi0 + sumi1, sumf);
        }
        return sumf;
    }

    static (Vector128<sbyte> Low, Vector128<sbyte> High) IInt8BlockPair<Block, Q8_0.Block>.Weights(in Block w) => Unpack(in w);

    /// <summary>q − 16 as a signed byte is the nibble where the fifth bit is set and the nibble | 0xF0 where it is not.</summary>
    static Vector256<sbyte> IInt8BlockPair<Block, Q8_0.Block>.Weights256(in Block w) =>
        (Nibbles.Spread(in w.Qs) | Vector256.AndNot(Vector256.Create((byte)0xF0), Nibbles.FifthBitMask(in w.Qh))).AsSByte();

    static bool IInt8BlockPair<Block, Q8_0.Block>.UnsignedWeights => false;
    static float IInt8BlockPair<Block, Q8_0.Block>.WeightScale(in Block w) => Fp16.ToFloat(w.D);
    static bool IInt8BlockPair<Block, Q8_0.Block>.HasOffset => false;
    static float IInt8BlockPair<Block, Q8_0.Block>.WeightMin(in Block w) => 0;

    /// <summary>The 32 weights as signed bytes q − 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte>, Vector128<sbyte>) Unpack(in Block b)
    {
        var (lo, hi) = Nibbles.FiveBit(in b.Qs, in b.Qh);
        var sixteen = Vector128.Create((sbyte)16);
        return (lo.AsSByte() - sixteen, hi.AsSByte() - sixteen);
    }
}
