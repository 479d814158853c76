using Llamero.Gguf;

namespace Llamero.Quants;

/// <summary>Argument checks and the plain fallback for <see cref="IQuantFormat.DotBatch"/>.</summary>
public static class BatchDot
{
    /// <summary>Throws unless <paramref name="count"/> activation rows of <paramref name="n"/> elements at
    /// <paramref name="activationStride"/> bytes, and their results at <paramref name="resultStride"/>, fit the spans.</summary>
    public static void Check<T>(ReadOnlySpan<byte> activations, int activationStride, int count, int n, Span<float> results, int resultStride)
        where T : IQuantFormat
    {
        var rowBytes = Partner<T>.Traits.RowBytes(n);
        if (count < 0 || (count > 0 && (activationStride < rowBytes || resultStride < 1
            || (long)(count - 1) * activationStride + rowBytes > activations.Length
            || (long)(count - 1) * resultStride + 1 > results.Length)))
            throw new ArgumentException(
                $"DotBatch of {GgmlTypes.Get(T.Type).Name}: {count} activation rows of {rowBytes} bytes at stride {activationStride} " +
                $"({activations.Length} bytes) with results at stride {resultStride} ({results.Length} floats) do not fit.");
    }

    /// <summary>One <see cref="IQuantFormat.Dot"/> per activation row.</summary>
    public static void OneByOne<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride)
        where T : IQuantFormat
    {
        Check<T>(activations, activationStride, count, n, results, resultStride);
        var rowBytes = (int)Partner<T>.Traits.RowBytes(n);
        for (var i = 0; i < count; i++)
            results[i * resultStride] = T.Dot(weights, activations.Slice(i * activationStride, rowBytes), n);
    }

    // The dot partner's traits, looked up once per format: the check runs for every weight row of a prompt matmul.
    private static class Partner<T>
        where T : IQuantFormat
    {
        public static readonly GgmlTypeTraits Traits = GgmlTypes.Get(T.DotPartner);
    }
}
