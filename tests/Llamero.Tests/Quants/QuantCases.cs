using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

/// <summary>The formats this folder tests, with each one's per-path dot product.</summary>
internal static class QuantCases
{
    public delegate float DotOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n);

    public delegate void DotBatchOn(SimdLevel level, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride,
        int count, int n, Span<float> results, int resultStride);

    private sealed record Kernels(DotOn Dot, DotBatchOn Batch);

    private static Kernels Of<T>() where T : ISimdDot => new(T.DotOn, T.DotBatchOn);

    private static readonly Dictionary<GgmlType, Kernels> All = new()
    {
        [GgmlType.F32] = Of<F32>(),
        [GgmlType.F16] = Of<F16>(),
        [GgmlType.BF16] = Of<BF16>(),
        [GgmlType.Q4_0] = Of<Q4_0>(),
        [GgmlType.Q4_1] = Of<Q4_1>(),
        [GgmlType.Q5_0] = Of<Q5_0>(),
        [GgmlType.Q5_1] = Of<Q5_1>(),
        [GgmlType.Q8_0] = Of<Q8_0>(),
        [GgmlType.Q8_1] = Of<Q8_1>(),
    };

    /// <summary>Per-path dot of each format.</summary>
    public static readonly IReadOnlyDictionary<GgmlType, DotOn> Paths = All.ToDictionary(p => p.Key, p => p.Value.Dot);

    /// <summary>Per-path batch dot of each format.</summary>
    public static readonly IReadOnlyDictionary<GgmlType, DotBatchOn> Batches = All.ToDictionary(p => p.Key, p => p.Value.Batch);

    public static TheoryData<GgmlType> Types() => new(Paths.Keys);

    public static TheoryData<GgmlType, string> TypesAndKinds()
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var t in Paths.Keys)
            foreach (var k in QuantRows.Kinds)
                data.Add(t, k);
        return data;
    }

    public static bool IsFloat(GgmlType t) => t is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16;

    /// <summary>Row lengths that hit every loop tail of a type's kernels.</summary>
    public static int[] TailLengths(GgmlType t) => IsFloat(t)
        ? [.. Enumerable.Range(1, 70), 95, 127, 128, 129, 255, 256, 257, 1000, 4096]
        : [.. new[] { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 128 }.Select(b => b * GgmlTypes.Get(t).BlockSize)];

    public static byte[] Quantize(GgmlType type, float[] x)
    {
        var bytes = new byte[GgmlTypes.Get(type).RowBytes(x.Length)];
        QuantFormats.Get(type).Quantize(x, bytes);
        return bytes;
    }

    /// <summary>Activations as Llamero's matmul quantizes them for <paramref name="type"/>'s partner.</summary>
    public static byte[] Activations(GgmlType type, float[] x)
    {
        var partner = QuantFormats.Get(type).DotPartner;
        var bytes = new byte[GgmlTypes.Get(partner).RowBytes(x.Length)];
        QuantFormats.Get(partner).Quantize(x, bytes);
        return bytes;
    }

    public static float[] Dequantize(GgmlType type, byte[] bytes, int n)
    {
        var y = new float[n];
        QuantFormats.Get(type).Dequantize(bytes, y);
        return y;
    }
}
