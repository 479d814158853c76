namespace Llamero.Gguf;

/// <summary>
/// Tensor element types, with the numeric ids ggml writes into GGUF files.
/// Gaps are ids ggml retired; files carrying them are rejected by name.
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}

/// <summary>Storage layout of one <see cref="GgmlType"/>: elements per block and bytes per block.</summary>
public readonly record struct GgmlTypeTraits(GgmlType Type, string Name, int BlockSize, int BytesPerBlock)
{
    /// <summary>Bytes taken by a row of <paramref name="elements"/> elements (must be a multiple of <see cref="BlockSize"/>).</summary>
    public long RowBytes(long elements) => elements / BlockSize * BytesPerBlock;

    /// <summary>Bits per weight of the storage format.</summary>
    public double BitsPerWeight => BytesPerBlock * 8.0 / BlockSize;
}

/// <summary>Lookup of <see cref="GgmlTypeTraits"/> by type id. Sizes are ggml's (ggml-common.h).</summary>
public static class GgmlTypes
{
    private static readonly GgmlTypeTraits[] All =
    [
        new(GgmlType.F32, "F32", 1, 4),
        new(GgmlType.F16, "F16", 1, 2),
        new(GgmlType.Q4_0, "Q4_0", 32, 18),
        new(GgmlType.Q4_1, "Q4_1", 32, 20),
        new(GgmlType.Q5_0, "Q5_0", 32, 22),
        new(GgmlType.Q5_1, "Q5_1", 32, 24),
        new(GgmlType.Q8_0, "Q8_0", 32, 34),
        new(GgmlType.Q8_1, "Q8_1", 32, 36),
        new(GgmlType.Q2_K, "Q2_K", 256, 84),
        new(GgmlType.Q3_K, "Q3_K", 256, 110),
        new(GgmlType.Q4_K, "Q4_K", 256, 144),
        new(GgmlType.Q5_K, "Q5_K", 256, 176),
        new(GgmlType.Q6_K, "Q6_K", 256, 210),
        new(GgmlType.Q8_K, "Q8_K", 256, 292),
        new(GgmlType.IQ2_XXS, "IQ2_XXS", 256, 66),
        new(GgmlType.IQ2_XS, "IQ2_XS", 256, 74),
        new(GgmlType.IQ3_XXS, "IQ3_XXS", 256, 98),
        new(GgmlType.IQ1_S, "IQ1_S", 256, 50),
        new(GgmlType.IQ4_NL, "IQ4_NL", 32, 18),
        new(GgmlType.IQ3_S, "IQ3_S", 256, 110),
        new(GgmlType.IQ2_S, "IQ2_S", 256, 82),
        new(GgmlType.IQ4_XS, "IQ4_XS", 256, 136),
        new(GgmlType.I8, "I8", 1, 1),
        new(GgmlType.I16, "I16", 1, 2),
        new(GgmlType.I32, "I32", 1, 4),
        new(GgmlType.I64, "I64", 1, 8),
        new(GgmlType.F64, "F64", 1, 8),
        new(GgmlType.IQ1_M, "IQ1_M", 256, 56),
        new(GgmlType.BF16, "BF16", 1, 2),
        new(GgmlType.TQ1_0, "TQ1_0", 256, 54),
        new(GgmlType.TQ2_0, "TQ2_0", 256, 66),
        new(GgmlType.MXFP4, "MXFP4", 32, 17),
    ];

    private static readonly Dictionary<GgmlType, GgmlTypeTraits> ById = All.ToDictionary(t => t.Type);

    /// <summary>Every type id ggml currently defines.</summary>
    public static IReadOnlyList<GgmlTypeTraits> Known => All;

    /// <summary>True when <paramref name="id"/> is a type id ggml defines.</summary>
    public static bool IsKnown(uint id) => ById.ContainsKey((GgmlType)id);

    /// <summary>Traits of a known type; throws <see cref="NotSupportedException"/> naming the id otherwise.</summary>
    public static GgmlTypeTraits Get(GgmlType type) =>
        ById.TryGetValue(type, out var t) ? t : throw new NotSupportedException($"Unknown ggml tensor type id {(uint)type}.");

    /// <summary>Type name as ggml prints it ("Q4_K"), or "type#N" for an unknown id.</summary>
    public static string NameOf(GgmlType type) => ById.TryGetValue(type, out var t) ? t.Name : $"type#{(uint)type}";
}
