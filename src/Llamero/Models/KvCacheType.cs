namespace Llamero.Models;

/// <summary>How the KV cache stores keys or values (llama.cpp's <c>-ctk</c>/<c>-ctv</c>).</summary>
public enum KvCacheType
{
    /// <summary>32-bit floats: exact, twice the memory of F16.</summary>
    F32,

    /// <summary>IEEE half precision, rounded to nearest even as ggml rounds (llama.cpp's default).</summary>
    F16,
}

/// <summary>The element types of the KV cache: keys and values separately, as llama.cpp allows.</summary>
/// <param name="Keys">How keys are stored.</param>
/// <param name="Values">How values are stored.</param>
public sealed record KvCacheOptions(KvCacheType Keys, KvCacheType Values)
{
    /// <summary>F32 keys and values.</summary>
    public static KvCacheOptions F32 { get; } = new(KvCacheType.F32, KvCacheType.F32);

    /// <summary>F16 keys and values (llama.cpp's default): half the memory of F32.</summary>
    public static KvCacheOptions F16 { get; } = new(KvCacheType.F16, KvCacheType.F16);

    /// <summary>What a session gets when no type is asked for: F16, as llama.cpp (half the memory of F32, and attention
    /// reads half the bytes; <see cref="Llamero.Kernels.CacheAttention"/> widens each block once per KV head).</summary>
    public static KvCacheOptions Default => F16;

    /// <summary>Bytes per element of <paramref name="type"/>.</summary>
    public static int BytesPerElement(KvCacheType type) => type == KvCacheType.F16 ? 2 : 4;

    /// <summary>Parses a llama.cpp cache type name (f32, f16); other llama.cpp types (q8_0, q4_0, ...) are named as
    /// not supported yet.</summary>
    public static KvCacheType ParseType(string name) => name.Trim().ToLowerInvariant() switch
    {
        "f32" => KvCacheType.F32,
        "f16" => KvCacheType.F16,
        "bf16" or "q8_0" or "q4_0" or "q4_1" or "iq4_nl" or "q5_0" or "q5_1" =>
            throw new ArgumentException($"KV cache type '{name}' is a llama.cpp type Llamero does not store yet; use f32 or f16"),
        _ => throw new ArgumentException($"unknown KV cache type '{name}'; valid: f32, f16"),
    };
}
