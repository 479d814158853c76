using Llamero.Gguf;

namespace Llamero.Quants;

/// <summary>
/// Run-time handle on an <see cref="IQuantFormat"/> for code that only knows the <see cref="GgmlType"/> of a
/// tensor (dequantize a row, quantize a row, one dot product). Hot loops use the generic form instead.
/// </summary>
public sealed class QuantFormat
{
    public delegate void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst);
    public delegate void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst);
    public delegate float DotRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);

    private QuantFormat(GgmlTypeTraits traits, GgmlType partner, DequantizeRow dequantize, QuantizeRow quantize, DotRow dot, DotRow dotReference)
    {
        Traits = traits;
        DotPartner = partner;
        Dequantize = dequantize;
        Quantize = quantize;
        Dot = dot;
        DotReference = dotReference;
    }

    public GgmlTypeTraits Traits { get; }
    public GgmlType Type => Traits.Type;
    public GgmlType DotPartner { get; }
    public DequantizeRow Dequantize { get; }
    public QuantizeRow Quantize { get; }
    public DotRow Dot { get; }
    public DotRow DotReference { get; }

    internal static QuantFormat Of<T>() where T : IQuantFormat =>
        new(GgmlTypes.Get(T.Type), T.DotPartner, T.Dequantize, T.Quantize, T.Dot, T.DotReference);
}
