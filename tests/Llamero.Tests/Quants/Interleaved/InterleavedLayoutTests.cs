using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// The <see cref="IInterleavedFormat"/> contract, for every layout the loader repacks into
/// (<see cref="InterleavedLayouts.All"/>) and the reference layout of every matmul format: packing loses nothing,
/// <c>Gemv</c> agrees with the plain format's scalar dot of each row on every SIMD path this CPU runs, and <c>Gemm</c>
/// is bit-identical to <c>Gemv</c> row by row (so batched and single-token logits agree).
/// </summary>
public class InterleavedLayoutTests
{
    private static readonly GgmlType[] MatMulTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static TheoryData<string> Layouts()
    {
        var data = new TheoryData<string>();
        foreach (var layout in InterleavedLayouts.All)
            data.Add(layout.Name);
        foreach (var type in MatMulTypes)
            data.Add(InterleavedLayouts.Reference(type).Name);
        return data;
    }

    internal static WeightLayout Find(string name) =>
        InterleavedLayouts.All.FirstOrDefault(l => l.Name == name)
        ?? MatMulTypes.Select(InterleavedLayouts.Reference).First(l => l.Name == name);

    // Row lengths: one super-block, several, and a long row (the 8192-wide Synthia rows are too slow for a unit test).
    private static int[] Widths(GgmlType type) => GgmlTypes.Get(type).BlockSize == 256 ? [256, 1024, 2816] : [32, 96, 1024, 2816];

    /// <summary><paramref name="rows"/> random rows of <paramref name="cols"/> quantized to the layout's format, one after another.</summary>
    internal static byte[] PlainRows(GgmlType type, int rows, int cols, int seed, string kind = "gaussian")
    {
        var rowBytes = (int)GgmlTypes.Get(type).RowBytes(cols);
        var bytes = new byte[rows * rowBytes];
        for (var r = 0; r < rows; r++)
            QuantCases.Quantize(type, QuantRows.Make(r % 3 == 2 ? "outlier" : kind, cols, seed + r)).CopyTo(bytes, r * rowBytes);
        return bytes;
    }

    /// <summary><paramref name="count"/> activation rows of <paramref name="cols"/> quantized to the dot partner of <paramref name="type"/>,
    /// <paramref name="stride"/> bytes apart (gaussian and mixed-sign rows in turn).</summary>
    internal static byte[] ActivationRows(GgmlType type, int count, int cols, int stride, int seed)
    {
        var actBytes = (int)GgmlTypes.Get(QuantFormats.Get(type).DotPartner).RowBytes(cols);
        var acts = new byte[(count - 1) * stride + actBytes];
        for (var b = 0; b < count; b++)
            QuantCases.Activations(type, QuantRows.Make(b % 2 == 0 ? "gaussian" : "mixed-signs", cols, seed: seed + b)).CopyTo(acts, b * stride);
        return acts;
    }

    internal static byte[] Pack(WeightLayout layout, byte[] plain, int cols)
    {
        var group = new byte[layout.GroupBytes(cols)];
        layout.Pack(plain, cols, group);
        return group;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Unpack_gives_the_plain_rows_back(string name)
    {
        var layout = Find(name);
        foreach (var cols in Widths(layout.Type))
        {
            var plain = PlainRows(layout.Type, layout.RowGroup, cols, seed: cols);
            var group = Pack(layout, plain, cols);
            var back = new byte[plain.Length];
            layout.Unpack(group, cols, back);
            Assert.Equal(plain, back);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Gemv_agrees_with_the_scalar_dot_of_each_row_on_every_path(string name)
    {
        var layout = Find(name);
        var format = QuantFormats.Get(layout.Type);
        foreach (var cols in Widths(layout.Type))
        {
            var plainRowBytes = (int)format.Traits.RowBytes(cols);
            var plain = PlainRows(layout.Type, layout.RowGroup, cols, seed: 7 * cols);
            var group = Pack(layout, plain, cols);
            foreach (var kind in new[] { "gaussian", "mixed-signs", "outlier" })
            {
                var act = QuantCases.Activations(layout.Type, QuantRows.Make(kind, cols, seed: cols + 1));
                var expected = new double[layout.RowGroup];
                var magnitude = 1.0;
                for (var j = 0; j < layout.RowGroup; j++)
                {
                    expected[j] = format.DotReference(plain.AsSpan(j * plainRowBytes, plainRowBytes), act, cols);
                    magnitude = Math.Max(magnitude, Math.Abs(expected[j]));
                }
                foreach (var level in SimdPath.Supported)
                {
                    var results = new float[layout.RowGroup];
                    layout.Gemv(level, group, act, cols, results);
                    for (var j = 0; j < layout.RowGroup; j++)
                        Assert.True(Math.Abs(results[j] - expected[j]) <= 2e-5 * magnitude,
                            $"{name} cols {cols} {kind} path {level} row {j}: Gemv {results[j]:R}, scalar dot {expected[j]:R}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Gemm_is_bit_identical_to_Gemv_row_by_row(string name)
    {
        var layout = Find(name);
        var partner = GgmlTypes.Get(QuantFormats.Get(layout.Type).DotPartner);
        foreach (var cols in Widths(layout.Type)[..2])
        {
            var group = Pack(layout, PlainRows(layout.Type, layout.RowGroup, cols, seed: 3 * cols), cols);
            var actBytes = (int)partner.RowBytes(cols);
            var stride = actBytes + 96; // rows need not be packed
            const int resultStride = 13;
            foreach (var count in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 16 })
            {
                var acts = ActivationRows(layout.Type, count, cols, stride, seed: 50);
                foreach (var level in SimdPath.Supported)
                {
                    var results = new float[(count - 1) * resultStride + layout.RowGroup];
                    layout.Gemm(level, group, acts, stride, count, cols, results, resultStride);
                    var single = new float[layout.RowGroup];
                    for (var b = 0; b < count; b++)
                    {
                        layout.Gemv(level, group, acts.AsSpan(b * stride, actBytes), cols, single);
                        for (var j = 0; j < layout.RowGroup; j++)
                            Assert.True(BitConverter.SingleToInt32Bits(single[j]) == BitConverter.SingleToInt32Bits(results[b * resultStride + j]),
                                $"{name} cols {cols} count {count} path {level} act {b} row {j}: Gemv {single[j]:R}, Gemm {results[b * resultStride + j]:R}");
                    }
                }
            }
        }
    }
}
