using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// What a block-quantized KV cache type (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL) needs for storage and attention, as llama.cpp's
/// CPU backend does it: a row goes in through the type's CPU <c>from_float</c> (ggml's set_rows; for Q8_0 that is the
/// SIMD <c>quantize_row_q8_0</c>, the others call their <c>_ref</c>), K·q quantizes each query head to the type's dot
/// partner (Q8_0, or Q8_1 for Q4_1/Q5_1) and uses the integer block dot (flash attention's <c>kq_vec_dot</c>), and
/// value rows are widened to floats before the weighted sum (its <c>v_to_float</c>). Rows are whole blocks of 32.
/// </summary>
internal abstract class KvRowCodec
{
    /// <summary>Elements per block of every type here.</summary>
    public const int BlockSize = 32;

    private static readonly KvRowCodec Q8_0Codec = new BlockCodec<Q8_0, Q8_0.Block, Q8_0.Block>();
    private static readonly KvRowCodec Q4_0Codec = new BlockCodec<Q4_0, Q4_0.Block, Q8_0.Block>();
    private static readonly KvRowCodec Q4_1Codec = new BlockCodec<Q4_1, Q4_1.Block, Q8_1.Block>();
    private static readonly KvRowCodec Q5_0Codec = new BlockCodec<Q5_0, Q5_0.Block, Q8_0.Block>();
    private static readonly KvRowCodec Q5_1Codec = new BlockCodec<Q5_1, Q5_1.Block, Q8_1.Block>();
    private static readonly KvRowCodec IQ4_NLCodec = new BlockCodec<IQ4_NL, IQ4_NL.Block, Q8_0.Block>();

    /// <summary>The codec of <paramref name="type"/>, or null for F32 and F16 (not block-quantized).</summary>
    public static KvRowCodec? For(GgmlType type) => type switch
    {
        GgmlType.Q8_0 => Q8_0Codec,
        GgmlType.Q4_0 => Q4_0Codec,
        GgmlType.Q4_1 => Q4_1Codec,
        GgmlType.Q5_0 => Q5_0Codec,
        GgmlType.Q5_1 => Q5_1Codec,
        GgmlType.IQ4_NL => IQ4_NLCodec,
        GgmlType.F32 or GgmlType.F16 => null,
        _ => throw new NotSupportedException($"A KV cache cannot store {GgmlTypes.NameOf(type)}."),
    };

    /// <summary>The stored type.</summary>
    public abstract GgmlType Type { get; }

    /// <summary>The type queries are quantized to for K·q.</summary>
    public abstract GgmlType QueryType { get; }

    /// <summary>Bytes of a row of <paramref name="n"/> elements.</summary>
    public int RowBytes(int n) => (int)GgmlTypes.Get(Type).RowBytes(n);

    /// <summary>Bytes of a query row of <paramref name="n"/> elements in <see cref="QueryType"/>.</summary>
    public int QueryRowBytes(int n) => (int)GgmlTypes.Get(QueryType).RowBytes(n);

    /// <summary>Stores <paramref name="row"/> as llama.cpp's CPU backend writes a cache row of this type.</summary>
    public abstract void Quantize(ReadOnlySpan<float> row, Span<byte> dst);

    /// <summary>Widens stored rows (whole blocks) to floats on <paramref name="level"/>: bit-identical to ggml's
    /// <c>dequantize_row_*</c> on every level.</summary>
    public abstract void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdLevel level);

    /// <summary>Quantizes query rows (whole blocks, so every head of a multiple of 32) to <see cref="QueryType"/> as
    /// the CPU backend quantizes a flash-attention query.</summary>
    public abstract void QuantizeQueries(ReadOnlySpan<float> queries, Span<byte> dst);

    /// <summary>
    /// <c>scores[g * scoresStride + t] = (K[t] · q[g]) · scale</c> for the <paramref name="count"/> key rows of
    /// <paramref name="headSize"/> elements at the start of <paramref name="keys"/> (one after another) and the
    /// <paramref name="heads"/> quantized query rows of <paramref name="queries"/>: each key block decoded once for all
    /// heads, each dot bit-identical to the format's dot product on <paramref name="level"/> (its scalar reference on
    /// <see cref="SimdLevel.Scalar"/>).
    /// </summary>
    public abstract void Scores(ReadOnlySpan<byte> keys, int count, ReadOnlySpan<byte> queries, int heads, int headSize, float scale,
        Span<float> scores, int scoresStride, SimdLevel level);

    private sealed class BlockCodec<TF, TW, TA> : KvRowCodec
        where TF : IQuantFormat, IInt8BlockPair<TW, TA>
        where TW : unmanaged
        where TA : unmanaged, IQ8Block<TA>
    {
        public override GgmlType Type => TF.Type;

        // The format's weights and scale as QuantizedKeyScores reads them (used only for signed formats dotted with Q8_0).
        private readonly struct Signed : QuantizedKeyScores.IKeyBlocks<TW>
        {
            public static Vector256<sbyte> Weights(in TW w) => TF.Weights256(in w);

            public static float Scale(in TW w) => TF.WeightScale(in w);
        }

        public override GgmlType QueryType => TF.DotPartner;

        public override void Quantize(ReadOnlySpan<float> row, Span<byte> dst)
        {
            // ggml-cpu's from_float for Q8_0 is its SIMD quantize_row_q8_0 (multiplier 127/amax, ties to even); the
            // other types' from_float is their quantize_row_*_ref.
            if (typeof(TF) == typeof(Q8_0) && Environment.GetEnvironmentVariable("KVREF") != "1")
                Q8_0.QuantizeForDot(row, dst);
            else
                TF.Quantize(row, dst);
        }

        public override void QuantizeQueries(ReadOnlySpan<float> queries, Span<byte> dst)
        {
            if (typeof(TA) == typeof(Q8_1.Block))
                Q8_1.QuantizeForDot(queries, dst);
            else
                Q8_0.QuantizeForDot(queries, dst);
        }

        public override void Dequantize(ReadOnlySpan<byte> src, Span<float> dst, SimdLevel level)
        {
            if (level == SimdLevel.Scalar)
            {
                TF.Dequantize(src, dst);
                return;
            }
            var blocks = BlockRows.Read<TW>(src, dst.Length, BlockSize, TF.Type);
            ref var y = ref MemoryMarshal.GetReference(dst);
            if (level >= SimdLevel.Vector256 && Vector256.IsHardwareAccelerated)
            {
                for (var i = 0; i < blocks.Length; i++, y = ref Unsafe.Add(ref y, BlockSize))
                    Widen256(in blocks[i], ref y);
            }
            else
            {
                for (var i = 0; i < blocks.Length; i++, y = ref Unsafe.Add(ref y, BlockSize))
                    Widen128(in blocks[i], ref y);
            }
        }

        // d·q (+ m): one multiply and, for the formats with a minimum, one add per element, as ggml's scalar
        // dequantize_row_* (compiled without FMA contraction), so every lane equals the scalar loop's result.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Widen256(in TW w, ref float y)
        {
            var q = TF.Weights256(in w);
            var d = Vector256.Create(TF.WeightScale(in w));
            var m = Vector256.Create(TF.HasOffset ? TF.WeightMin(in w) : 0f);
            var (q01, q23) = Vector256.Widen(q);
            var (q0, q1) = Vector256.Widen(q01);
            var (q2, q3) = Vector256.Widen(q23);
            Store(Vector256.ConvertToSingle(q0) * d, m, ref y, 0);
            Store(Vector256.ConvertToSingle(q1) * d, m, ref y, 8);
            Store(Vector256.ConvertToSingle(q2) * d, m, ref y, 16);
            Store(Vector256.ConvertToSingle(q3) * d, m, ref y, 24);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector256<float> scaled, Vector256<float> m, ref float y, nuint at) =>
            (TF.HasOffset ? scaled + m : scaled).StoreUnsafe(ref y, at);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Widen128(in TW w, ref float y)
        {
            var (low, high) = TF.Weights(in w);
            var d = Vector128.Create(TF.WeightScale(in w));
            var m = Vector128.Create(TF.HasOffset ? TF.WeightMin(in w) : 0f);
            Widen16(low, d, m, ref y);
            Widen16(high, d, m, ref Unsafe.Add(ref y, 16));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Widen16(Vector128<sbyte> q, Vector128<float> d, Vector128<float> m, ref float y)
        {
            var (q01, q23) = Vector128.Widen(q);
            var (q0, q1) = Vector128.Widen(q01);
            var (q2, q3) = Vector128.Widen(q23);
            Store(Vector128.ConvertToSingle(q0) * d, m, ref y, 0);
            Store(Vector128.ConvertToSingle(q1) * d, m, ref y, 4);
            Store(Vector128.ConvertToSingle(q2) * d, m, ref y, 8);
            Store(Vector128.ConvertToSingle(q3) * d, m, ref y, 12);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Store(Vector128<float> scaled, Vector128<float> m, ref float y, nuint at) =>
            (TF.HasOffset ? scaled + m : scaled).StoreUnsafe(ref y, at);

        public override void Scores(ReadOnlySpan<byte> keys, int count, ReadOnlySpan<byte> queries, int heads, int headSize, float scale,
            Span<float> scores, int scoresStride, SimdLevel level)
        {
            int rowBytes = RowBytes(headSize), queryBytes = QueryRowBytes(headSize);
            if ((long)count * rowBytes > keys.Length || (long)heads * queryBytes > queries.Length
                || count > scoresStride || (long)(heads - 1) * scoresStride + count > scores.Length)
                throw new ArgumentException($"Attention scores: {count} {GgmlTypes.NameOf(TF.Type)} rows x {heads} heads of {headSize} do not fit the cache, queries or scores.");
            var t = 0;
            if (level >= SimdLevel.Avx2 && QuantizedKeyScores.IsSupported && typeof(TA) == typeof(Q8_0.Block) && !TF.HasOffset && !TF.UnsignedWeights)
            {
                // Eight positions per pass, every head (QuantizedKeyScores); the rest one position at a time below.
                var blocks = headSize / BlockSize;
                t = QuantizedKeyScores.Run<Signed, TW>(MemoryMarshal.Cast<byte, TW>(keys[..(count * rowBytes)]), count, blocks,
                    MemoryMarshal.Cast<byte, Q8_0.Block>(queries[..(heads * queryBytes)]), heads, scale, scores, scoresStride);
            }
            for (; t < count; t++)
            {
                var row = keys.Slice(t * rowBytes, rowBytes);
                var results = scores[t..];
                if (level == SimdLevel.Scalar)
                {
                    for (var g = 0; g < heads; g++)
                        results[g * scoresStride] = TF.DotReference(row, queries.Slice(g * queryBytes, queryBytes), headSize);
                }
                else
                {
                    Int8BlockDot.BatchOn<TF, TW, TA>(level, MemoryMarshal.Cast<byte, TW>(row), queries, queryBytes, heads, results, scoresStride);
                }
                for (var g = 0; g < heads; g++)
                    results[g * scoresStride] *= scale;
            }
        }
    }
}
