using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// Q4_0: 32 weights in 18 bytes (4.5 bits per weight): an fp16 scale d and 32 nibbles q (byte j holds element j
/// in its low nibble and element j+16 in its high one); w = d·(q − 8). Dotted with <see cref="Q8_0"/> activations.
/// </summary>
public readonly struct Q4_0 : IQuantFormat, ISimdDot, IInt8BlockPair<Q4_0.Block, Q8_0.Block>
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>ggml's block_q4_0.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Block
    {
        /// <summary>Scale, fp16 bits.</summary>
        public ushort D;
        /// <summary>Nibbles: low = element j, high = element j + 16.</summary>
        public Bytes16 Qs;
    }

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.Q4_0;

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
            for (var j = 0; j < BlockSize / 2; j++)
            {
                y[j] = ((b.Qs[j] & 0x0F) - 8) * d;
                y[j + BlockSize / 2] = ((b.Qs[j] >> 4) - 8) * d;
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
            var d = SignedAbsMax(x) / -8;
            var id = d != 0 ? 1.0f / d : 0.0f;
            ref var b = ref blocks[i];
            b.D = Fp16.FromFloat(d);
            for (var j = 0; j < BlockSize / 2; j++)
            {
                var q0 = (byte)Math.Min(15, (int)CFloat.TruncateToInt8(x[j] * id + 8.5f));
                var q1 = (byte)Math.Min(15, (int)CFloat.TruncateToInt8(x[j + BlockSize / 2] * id + 8.5f));
                b.Qs[j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    /// <summary>The element of largest magnitude, with its sign (the first one on ties), as ggml's Q4_0/Q5_0 pick it.</summary>
    internal static float SignedAbsMax(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (var v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        return max;
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
            : Int8BlockDot.On<Q4_0, Block, Q8_0.Block>(level,
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
        Int8BlockDot.DotBatch<Q4_0, Block, Q8_0.Block>(level, weights, activations, activationStride, count, n, results, resultStride);

    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<Block>(weights, n, BlockSize, Type);
        var y = BlockRows.Read<Q8_0.Block>(activations, n, BlockSize, DotPartner);
        var sumf = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            int sumi0 = 0, sumi1 = 0;
            for (var j = 0; j < BlockSize / 2; j++)
            {
                sumi0 += ((x[i].Qs[j] & 0x0F) - 8) * y[i].Qs[j];
                sumi1 += ((x[i].Qs[j] >> 4) - 8) * y[i].Qs[j + BlockSize / 2];
            }
            // ggml's _generic is compiled with FMA contraction: sumf = fma(sumi·dx, dy, sumf).
            sumf = MathF.FusedMultiplyAdd((sumi0 + sumi1) * Fp16.ToFloat(x[i].D), Fp16.ToFloat(y[i].D), sumf);
        }
        return sumf;
    }

    static Vector256<sbyte> IInt8BlockPair<Block, Q8_0.Block>.Weights256(in Block w) =>
        Nibbles.Spread(in w.Qs).AsSByte() - Vector256.Create((sbyte)8);

    static (Vector128<sbyte> Low, Vector128<sbyte> High) IInt8BlockPair<Block, Q8_0.Block>.Weights(in Block w) => Unpack(in w);
    static bool IInt8BlockPair<Block, Q8_0.Block>.UnsignedWeights => false;
    static float IInt8BlockPair<Block, Q8_0.Block>.WeightScale(in Block w) => Fp16.ToFloat(w.D);
    static bool IInt8BlockPair<Block, Q8_0.Block>.HasOffset => false;
    static float IInt8BlockPair<Block, Q8_0.Block>.WeightMin(in Block w) => 0;

    /// <summary>The 32 weights of a block as signed bytes q − 8, elements 0..15 and 16..31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<sbyte>, Vector128<sbyte>) Unpack(in Block b)
    {
        var (lo, hi) = Nibbles.Split(in b.Qs);
        var eight = Vector128.Create((sbyte)8);
        return (lo.AsSByte() - eight, hi.AsSByte() - eight);
    }
}
