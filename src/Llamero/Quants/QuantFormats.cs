using Llamero.Gguf;

namespace Llamero.Quants;

/// <summary>The formats Llamero computes with, by <see cref="GgmlType"/>.</summary>
public static class QuantFormats
{
    private static readonly Dictionary<GgmlType, QuantFormat> Formats = Build();

    private static Dictionary<GgmlType, QuantFormat> Build()
    {
        var list = new List<QuantFormat>
        {
            // One line per format; keep in ggml id order.
            QuantFormat.Of<F32>(),
            QuantFormat.Of<F16>(),
            QuantFormat.Of<Q4_0>(),
            QuantFormat.Of<Q4_1>(),
            QuantFormat.Of<Q5_0>(),
            QuantFormat.Of<Q5_1>(),
            QuantFormat.Of<Q8_0>(),
            QuantFormat.Of<Q8_1>(),
            QuantFormat.Of<Q2_K>(),
            QuantFormat.Of<Q3_K>(),
            QuantFormat.Of<Q4_K>(),
            QuantFormat.Of<Q5_K>(),
            QuantFormat.Of<Q6_K>(),
            QuantFormat.Of<Q8_K>(),
            QuantFormat.Of<BF16>(),
        };
        return list.ToDictionary(f => f.Type);
    }

    /// <summary>Every supported format.</summary>
    public static IEnumerable<QuantFormat> All => Formats.Values.OrderBy(f => (uint)f.Type);

    /// <summary>True when Llamero can compute with tensors of <paramref name="type"/>.</summary>
    public static bool IsSupported(GgmlType type) => Formats.ContainsKey(type);

    /// <summary>The format of <paramref name="type"/>; a clear <see cref="NotSupportedException"/> for the others
    /// (the i-quants, ternary and MXFP4 formats are listed by name but not computed yet).</summary>
    public static QuantFormat Get(GgmlType type) =>
        Formats.TryGetValue(type, out var f)
            ? f
            : throw new NotSupportedException(
                $"Tensor type {GgmlTypes.NameOf(type)} is not supported yet. Supported: {string.Join(", ", All.Select(x => x.Traits.Name))}.");
}
