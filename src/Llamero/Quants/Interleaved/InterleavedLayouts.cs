using Llamero.Gguf;

namespace Llamero.Quants.Interleaved;

/// <summary>
/// Which interleaved layout a model's matrices of each format are repacked into at load time (llama.cpp's CPU
/// "repack" buffer). A format not listed stays plain rows. One line per layout.
/// </summary>
public static class InterleavedLayouts
{
    private static readonly Dictionary<GgmlType, WeightLayout> Layouts = new()
    {
        [GgmlType.Q4_K] = WeightLayout.Of<Q4_Kx8>("Q4_Kx8"),
        [GgmlType.Q2_K] = WeightLayout.Of<KQuantx8<Q2_K.Avx2Block, Q2_K.PortableBlock>>("Q2_Kx8"),
        [GgmlType.Q3_K] = WeightLayout.Of<KQuantx8<Q3_K.Avx2Block, Q3_K.PortableBlock>>("Q3_Kx8"),
        [GgmlType.Q5_K] = WeightLayout.Of<KQuantx8<Q5_K.Avx2Block, Q5_K.PortableBlock>>("Q5_Kx8"),
        [GgmlType.Q6_K] = WeightLayout.Of<Q6_Kx8>("Q6_Kx8"),
        [GgmlType.Q4_0] = WeightLayout.Of<Q4_0x8>("Q4_0x8"),
        [GgmlType.Q8_0] = WeightLayout.Of<Q8_0x8>("Q8_0x8"),
    };

    /// <summary>The layout matrices of <paramref name="type"/> are repacked into by default, or null (kept plain).</summary>
    public static WeightLayout? Default(GgmlType type) => Layouts.GetValueOrDefault(type);

    /// <summary>Every registered layout (tests run the contract over each).</summary>
    public static IEnumerable<WeightLayout> All => Layouts.Values;

    /// <summary>The reference layout (<see cref="BlockInterleaved{T}"/>) for any matmul format: slow, for tests.</summary>
    internal static WeightLayout Reference(GgmlType type) => type switch
    {
        GgmlType.F32 => WeightLayout.Of<BlockInterleaved<F32>>("F32x8-reference"),
        GgmlType.F16 => WeightLayout.Of<BlockInterleaved<F16>>("F16x8-reference"),
        GgmlType.BF16 => WeightLayout.Of<BlockInterleaved<BF16>>("BF16x8-reference"),
        GgmlType.Q4_0 => WeightLayout.Of<BlockInterleaved<Q4_0>>("Q4_0x8-reference"),
        GgmlType.Q4_1 => WeightLayout.Of<BlockInterleaved<Q4_1>>("Q4_1x8-reference"),
        GgmlType.Q5_0 => WeightLayout.Of<BlockInterleaved<Q5_0>>("Q5_0x8-reference"),
        GgmlType.Q5_1 => WeightLayout.Of<BlockInterleaved<Q5_1>>("Q5_1x8-reference"),
        GgmlType.Q8_0 => WeightLayout.Of<BlockInterleaved<Q8_0>>("Q8_0x8-reference"),
        GgmlType.Q2_K => WeightLayout.Of<BlockInterleaved<Q2_K>>("Q2_Kx8-reference"),
        GgmlType.Q3_K => WeightLayout.Of<BlockInterleaved<Q3_K>>("Q3_Kx8-reference"),
        GgmlType.Q4_K => WeightLayout.Of<BlockInterleaved<Q4_K>>("Q4_Kx8-reference"),
        GgmlType.Q5_K => WeightLayout.Of<BlockInterleaved<Q5_K>>("Q5_Kx8-reference"),
        GgmlType.Q6_K => WeightLayout.Of<BlockInterleaved<Q6_K>>("Q6_Kx8-reference"),
        _ => throw new NotSupportedException($"No interleaved layout for {GgmlTypes.NameOf(type)}."),
    };
}
