using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// y = W·x for a batch of activation rows, the way ggml computes it: each activation row is quantized once to the
/// weight format's dot partner, then every weight row is dotted with it.
/// </summary>
public static class MatMul
{
    /// <summary>
    /// <paramref name="x"/> holds <paramref name="batch"/> rows of <c>w.Cols</c> floats; <paramref name="y"/> receives
    /// <paramref name="batch"/> rows of <c>w.Rows</c> floats.
    /// </summary>
    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        if (x.Length < batch * w.Cols || y.Length < batch * w.Rows)
            throw new ArgumentException($"MatMul shapes: W is {w.Rows}x{w.Cols}, x has {x.Length} floats, y has {y.Length}, batch {batch}.");
        var format = QuantFormats.Get(w.Type);
        var partner = QuantFormats.Get(format.DotPartner);
        var actRowBytes = (int)partner.Traits.RowBytes(w.Cols);
        var act = new byte[batch * actRowBytes];
        for (var b = 0; b < batch; b++)
            partner.Quantize(x.Slice(b * w.Cols, w.Cols), act.AsSpan(b * actRowBytes, actRowBytes));

        var weights = w;
        var output = new float[batch * w.Rows];
        Parallel.For(0, w.Rows, row =>
        {
            var wr = weights.Row(row);
            for (var b = 0; b < batch; b++)
                output[b * weights.Rows + row] = format.Dot(wr, act.AsSpan(b * actRowBytes, actRowBytes), weights.Cols);
        });
        output.AsSpan(0, batch * w.Rows).CopyTo(y);
    }
}
