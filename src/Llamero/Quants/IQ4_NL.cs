using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Kernels;

namespace Llamero.Quants;

/// <summary>
/// IQ4_NL: 32 weights in 18 bytes (4.5 bits per weight): an fp16 scale d and 32 nibbles (byte j holds element j in its
/// low nibble and element j+16 in its high one), each an index into a fixed non-linear table of 16 values;
/// w = d·table[i]. Dotted with <see cref="Q8_0"/> activations. Used here as a KV cache type (llama.cpp's
/// <c>-ctk iq4_nl</c>); not registered as a weight format.
/// </summary>
public readonly struct IQ4_NL : IQuantFormat, IInt8BlockPair<IQ4_NL.Block, Q8_0.Block>
{
    /// <summary>Elements per block.</summary>
    public const int BlockSize = 32;

    /// <summary>ggml's kvalues_iq4nl: the 16 values a nibble selects.</summary>
    private static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <summary>ggml's block_iq4_nl.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    public struct Block
    {
        /// <summary>Scale, fp16 bits.</summary>
        public ushort D;
        /// <summary>Nibbles: low = element j, high = element j + 16.</summary>
        public Bytes16 Qs;
    }

    /// <inheritdoc />
    public static GgmlType Type => GgmlType.IQ4_NL;

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
                y[j] = d * Values[b.Qs[j] & 0x0F];
                y[j + BlockSize / 2] = d * Values[b.Qs[j] >> 4];
            }
        }
    }

    /// <summary>
    /// ggml's quantize_row_iq4_nl_ref (quantize_row_iq4_nl_impl with no importance matrix and ntry = −1, which is also
    /// what its CPU backend stores in an iq4_nl KV cache): per block, indices of the table entries nearest x·(−127/max)
    /// (max: the element of largest magnitude, with its sign), then d = Σ w·q·x / Σ w·q² with weights w = x², the
    /// least-squares scale of those entries. A block of zeros (|x| &lt; 1e-15) gets d = 0 and keeps the previous block's
    /// indices, as ggml's reused index buffer does (they dequantize to zeros either way).
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = BlockRows.Write<Block>(dst, src.Length, BlockSize, Type);
        Span<byte> indices = stackalloc byte[BlockSize];
        indices.Fill(8);
        for (var i = 0; i < blocks.Length; i++)
        {
            ref var b = ref blocks[i];
            b.D = Fp16.FromFloat(BlockScale(src.Slice(i * BlockSize, BlockSize), indices));
            for (var j = 0; j < BlockSize / 2; j++)
                b.Qs[j] = (byte)(indices[j] | (indices[j + BlockSize / 2] << 4));
        }
    }

    // One block: fills the indices (unless the block is zeros) and returns the scale.
    private static float BlockScale(ReadOnlySpan<float> x, Span<byte> indices)
    {
        float amax = 0, max = 0;
        foreach (var v in x)
        {
            var ax = MathF.Abs(v);
            if (ax > amax)
            {
                amax = ax;
                max = v;
            }
        }
        if (amax < 1e-15f)
            return 0;
        var id = 1 / (max / Values[0]);
        float sumqx = 0, sumq2 = 0;
        for (var j = 0; j < x.Length; j++)
        {
            var l = BestIndex(id * x[j]);
            indices[j] = (byte)l;
            float q = Values[l];
            var w = x[j] * x[j];
            sumqx += w * q * x[j];
            sumq2 += w * q * q;
        }
        return sumqx / sumq2;
    }

    // ggml's best_index_int8: the index of the table value nearest x (the upper one on a tie).
    private static int BestIndex(float x)
    {
        var values = Values;
        if (x <= values[0])
            return 0;
        if (x >= values[^1])
            return values.Length - 1;
        int lo = 0, hi = values.Length - 1;
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (x < values[mid])
                hi = mid;
            else
                lo = mid;
        }
        return x - values[hi - 1] < values[hi] - x ? hi - 1 : hi;
    }

    /// <inheritdoc />
    public static float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n) =>
        SimdPath.Current == SimdLevel.Scalar
            ? DotReference(weights, activations, n)
            : Int8BlockDot.On<IQ4_NL, Block, Q8_0.Block>(SimdPath.Current,
                BlockRows.Read<Block>(weights, n, BlockSize, Type), BlockRows.Read<Q8_0.Block>(activations, n, BlockSize, DotPartner));

    /// <inheritdoc />
    public static void DotBatch(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride) =>
        Int8BlockDot.DotBatch<IQ4_NL, Block, Q8_0.Block>(SimdPath.Current, weights, activations, activationStride, count, n, results, resultStride);

    /// <summary>ggml's ggml_vec_dot_iq4_nl_q8_0_generic (compiled with FMA contraction: sumf = fma(dy·dx, sumi, sumf)).</summary>
    public static float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        var x = BlockRows.Read<Block>(weights, n, BlockSize, Type);
        var y = BlockRows.Read<Q8_0.Block>(activations, n, BlockSize, DotPartner);
        var sumf = 0f;
        for (var i = 0; i < x.Length; i++)
        {
            int sumi1 = 0, sumi2 = 0;
            for (var j = 0; j < BlockSize / 2; j++)
            {
                sumi1 += y[i].Qs[j] * Values[x[i].Qs[j] & 0x0F];
                sumi2 += y[i].Qs[j + BlockSize / 2] * Values[x[i].Qs[j] >> 4];
            }
            sumf = MathF.FusedMultiplyAdd(Fp16.ToFloat(y[i].D) * Fp16.ToFloat(x[i].D), sumi1 + sumi2, sumf);
        }
        return sumf;
    }

    static (Vector128<sbyte> Low, Vector128<sbyte> High) IInt8BlockPair<Block, Q8_0.Block>.Weights(in Block w)
    {
        var (lo, hi) = Nibbles.Split(in w.Qs);
        var table = Vector128.Create(Values);
        return (Vector128.Shuffle(table, lo.AsSByte()), Vector128.Shuffle(table, hi.AsSByte()));
    }

    // The table in both 128-bit lanes, so a lane-wise byte shuffle (vpshufb) looks it up for all 32 indices.
    static Vector256<sbyte> IInt8BlockPair<Block, Q8_0.Block>.Weights256(in Block w)
    {
        var table = Vector128.Create(Values);
        var indices = Nibbles.Spread(in w.Qs).AsSByte();
        return System.Runtime.Intrinsics.X86.Avx2.IsSupported
            ? System.Runtime.Intrinsics.X86.Avx2.Shuffle(Vector256.Create(table, table), indices)
            : Vector256.Create(Vector128.Shuffle(table, indices.GetLower()), Vector128.Shuffle(table, indices.GetUpper()));
    }

    static bool IInt8BlockPair<Block, Q8_0.Block>.UnsignedWeights => false;
    static float IInt8BlockPair<Block, Q8_0.Block>.WeightScale(in Block w) => Fp16.ToFloat(w.D);
    static bool IInt8BlockPair<Block, Q8_0.Block>.HasOffset => false;
    static float IInt8BlockPair<Block, Q8_0.Block>.WeightMin(in Block w) => 0;
}
