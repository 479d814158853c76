using Llamero.Gguf;

namespace Llamero.Quantization;

/// <summary>
/// A named quantization of a whole model, as <c>llama-quantize</c> names them: the default tensor type and the
/// <c>general.file_type</c> (llama_ftype) it records. The per-tensor choice is <see cref="TensorTypeChooser"/>'s.
/// </summary>
public sealed record QuantizationMix(string Name, uint FileType, GgmlType DefaultType, string Description)
{
    /// <summary>Every mix Llamero writes, in llama-quantize's order.</summary>
    public static IReadOnlyList<QuantizationMix> All { get; } =
    [
        new("Q4_0", 2, GgmlType.Q4_0, "4.5 bpw, symmetric 32-blocks"),
        new("Q4_1", 3, GgmlType.Q4_1, "5.0 bpw, 32-blocks with minimum"),
        new("Q5_0", 8, GgmlType.Q5_0, "5.5 bpw, symmetric 32-blocks"),
        new("Q5_1", 9, GgmlType.Q5_1, "6.0 bpw, 32-blocks with minimum"),
        new("Q2_K", 10, GgmlType.Q2_K, "2-bit K-quant mix"),
        new("Q3_K_S", 11, GgmlType.Q3_K, "3-bit K-quant, small"),
        new("Q3_K_M", 12, GgmlType.Q3_K, "3-bit K-quant, medium"),
        new("Q3_K_L", 13, GgmlType.Q3_K, "3-bit K-quant, large"),
        new("Q4_K_S", 14, GgmlType.Q4_K, "4-bit K-quant, small"),
        new("Q4_K_M", 15, GgmlType.Q4_K, "4-bit K-quant, medium"),
        new("Q5_K_S", 16, GgmlType.Q5_K, "5-bit K-quant, small"),
        new("Q5_K_M", 17, GgmlType.Q5_K, "5-bit K-quant, medium"),
        new("Q6_K", 18, GgmlType.Q6_K, "6.6 bpw K-quant"),
        new("Q8_0", 7, GgmlType.Q8_0, "8.5 bpw, symmetric 32-blocks"),
        new("F16", 1, GgmlType.F16, "16-bit IEEE half"),
        new("BF16", 32, GgmlType.BF16, "16-bit bfloat"),
    ];

    // llama-quantize's short names for the medium K mixes.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Q3_K"] = "Q3_K_M",
        ["Q4_K"] = "Q4_K_M",
        ["Q5_K"] = "Q5_K_M",
    };

    /// <summary>True for mixes whose default type is a block quantization (the per-tensor rules apply).</summary>
    public bool IsQuantized => DefaultType is not (GgmlType.F16 or GgmlType.BF16 or GgmlType.F32);

    /// <summary>The mix called <paramref name="name"/> (case-insensitive); an <see cref="ArgumentException"/> listing the valid names otherwise.</summary>
    public static QuantizationMix Parse(string name)
    {
        var wanted = Aliases.TryGetValue(name.Trim(), out var full) ? full : name.Trim();
        return All.FirstOrDefault(m => string.Equals(m.Name, wanted, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException(
                $"Unknown quantization type \"{name}\". Valid: {string.Join(", ", All.Select(m => m.Name))} (aliases Q3_K, Q4_K, Q5_K).");
    }

    public override string ToString() => Name;
}
