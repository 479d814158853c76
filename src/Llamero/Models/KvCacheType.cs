using Llamero.Gguf;

namespace Llamero.Models;

/// <summary>How the KV cache stores keys or values (llama.cpp's <c>-ctk</c>/<c>-ctv</c>).</summary>
public enum KvCacheType
{
    /// <summary>32-bit floats: exact, twice the memory of F16.</summary>
    F32,

    /// <summary>IEEE half precision, rounded to nearest even as ggml rounds (llama.cpp's default).</summary>
    F16,

    /// <summary>ggml's Q8_0 blocks (32 elements in 34 bytes, 8.5 bits each): 53% of F16's memory.</summary>
    Q8_0,

    /// <summary>ggml's Q4_0 blocks (32 elements in 18 bytes, 4.5 bits each): 28% of F16's memory.</summary>
    Q4_0,

    /// <summary>ggml's Q4_1 blocks (32 elements in 20 bytes, 5 bits each).</summary>
    Q4_1,

    /// <summary>ggml's Q5_0 blocks (32 elements in 22 bytes, 5.5 bits each).</summary>
    Q5_0,

    /// <summary>ggml's Q5_1 blocks (32 elements in 24 bytes, 6 bits each).</summary>
    Q5_1,

    /// <summary>ggml's IQ4_NL blocks (32 elements in 18 bytes, 4.5 bits each, a non-linear 16-value grid).</summary>
    IQ4_NL,
}

/// <summary>The element types of the KV cache: keys and values separately, as llama.cpp allows.</summary>
/// <param name="Keys">How keys are stored.</param>
/// <param name="Values">How values are stored.</param>
public sealed record KvCacheOptions(KvCacheType Keys, KvCacheType Values)
{
    /// <summary>The type names <see cref="ParseType"/> accepts, as llama.cpp spells them.</summary>
    public const string ValidNames = "f32, f16, q8_0, q4_0, q4_1, q5_0, q5_1, iq4_nl";

    /// <summary>F32 keys and values.</summary>
    public static KvCacheOptions F32 { get; } = new(KvCacheType.F32, KvCacheType.F32);

    /// <summary>F16 keys and values (llama.cpp's default): half the memory of F32.</summary>
    public static KvCacheOptions F16 { get; } = new(KvCacheType.F16, KvCacheType.F16);

    /// <summary>Q8_0 keys and values (<c>-ctk q8_0 -ctv q8_0</c>): 34 bytes per 32 elements, 53% of F16.</summary>
    public static KvCacheOptions Q8_0 { get; } = new(KvCacheType.Q8_0, KvCacheType.Q8_0);

    /// <summary>What a session gets when no type is asked for: F16, as llama.cpp (half the memory of F32, and attention
    /// reads half the bytes; <see cref="Llamero.Kernels.CacheAttention"/> widens each block once per KV head).</summary>
    public static KvCacheOptions Default => F16;

    /// <summary>
    /// Rotate keys and queries (and values and the attention output) by an orthonormal Walsh-Hadamard matrix around a
    /// block-quantized side, as llama.cpp does by default since its PR 21038 (<c>attn_rot_k/v</c>; its
    /// <c>LLAMA_ATTN_ROT_DISABLE=1</c> is false here): K·q is unchanged, but outliers are spread over 64..head-size
    /// elements before quantization, which lowers the error of q8_0 and especially of q4_0. Only for head sizes that are
    /// multiples of 64; never for F16 or F32.
    /// </summary>
    public bool HadamardRotation { get; init; } = true;

    /// <summary>The ggml type that stores <paramref name="type"/>.</summary>
    public static GgmlType GgmlTypeOf(KvCacheType type) => type switch
    {
        KvCacheType.F32 => GgmlType.F32,
        KvCacheType.F16 => GgmlType.F16,
        KvCacheType.Q8_0 => GgmlType.Q8_0,
        KvCacheType.Q4_0 => GgmlType.Q4_0,
        KvCacheType.Q4_1 => GgmlType.Q4_1,
        KvCacheType.Q5_0 => GgmlType.Q5_0,
        KvCacheType.Q5_1 => GgmlType.Q5_1,
        KvCacheType.IQ4_NL => GgmlType.IQ4_NL,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, $"Unknown KV cache type; valid: {ValidNames}."),
    };

    /// <summary>Whether <paramref name="type"/> stores blocks of quantized elements (every type but F32 and F16).</summary>
    public static bool IsQuantized(KvCacheType type) => type is not (KvCacheType.F32 or KvCacheType.F16);

    /// <summary>Elements per block of <paramref name="type"/> (1 for F32 and F16, 32 for the quantized types): a head's
    /// size must be a multiple of it.</summary>
    public static int BlockSize(KvCacheType type) => GgmlTypes.Get(GgmlTypeOf(type)).BlockSize;

    /// <summary>Bytes of one cached row of <paramref name="elements"/> elements (a whole number of blocks).</summary>
    public static long RowBytes(KvCacheType type, long elements) => GgmlTypes.Get(GgmlTypeOf(type)).RowBytes(elements);

    /// <summary>Bytes one position takes in a cache of <paramref name="layers"/> layers whose rows hold
    /// <paramref name="keyWidth"/> key and <paramref name="valueWidth"/> value elements (KV heads x head size).</summary>
    public long BytesPerPosition(int layers, int keyWidth, int valueWidth) =>
        layers * (RowBytes(Keys, keyWidth) + RowBytes(Values, valueWidth));

    /// <summary>
    /// Throws unless every head of <paramref name="headSize"/> elements is a whole number of blocks of both types
    /// (llama.cpp refuses a block-quantized cache type whose block size does not divide the head size too).
    /// </summary>
    public void CheckHeadSize(int headSize)
    {
        foreach (var (side, type) in new[] { ("K", Keys), ("V", Values) })
        {
            var block = BlockSize(type);
            if (headSize % block != 0)
                throw new ArgumentException(
                    $"{side} cache type {Name(type)} stores blocks of {block} elements, which do not divide this model's head size {headSize}; use f16 or f32.");
        }
    }

    /// <summary>llama.cpp's name of <paramref name="type"/> (f16, q8_0, ...).</summary>
    public static string Name(KvCacheType type) => type.ToString().ToLowerInvariant();

    /// <summary>Parses a llama.cpp cache type name (<see cref="ValidNames"/>); the llama.cpp type Llamero does not store
    /// (bf16) is named as such.</summary>
    public static KvCacheType ParseType(string name) => name.Trim().ToLowerInvariant() switch
    {
        "f32" => KvCacheType.F32,
        "f16" => KvCacheType.F16,
        "q8_0" => KvCacheType.Q8_0,
        "q4_0" => KvCacheType.Q4_0,
        "q4_1" => KvCacheType.Q4_1,
        "q5_0" => KvCacheType.Q5_0,
        "q5_1" => KvCacheType.Q5_1,
        "iq4_nl" => KvCacheType.IQ4_NL,
        "bf16" =>
            throw new ArgumentException($"KV cache type '{name}' is a llama.cpp type Llamero does not store yet; valid: {ValidNames}"),
        _ => throw new ArgumentException($"unknown KV cache type '{name}'; valid: {ValidNames}"),
    };
}
