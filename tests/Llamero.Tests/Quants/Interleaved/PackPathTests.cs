using Llamero.Kernels;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Quants.Interleaved;

/// <summary>
/// The packers that have an AVX2 path beside the portable one write the same bytes on every path this CPU supports
/// (a model is packed on the fastest; the shared contract checks Unpack(Pack(x)) == x there), including rows of an odd
/// number of blocks and the widest TinyLlama row.
/// </summary>
public class PackPathTests
{
    public static TheoryData<string, int> Shapes() => new()
    {
        { "Q4_0x8", 32 }, { "Q4_0x8", 96 }, { "Q4_0x8", 5632 },
        { "Q4_Kx8", 256 }, { "Q4_Kx8", 768 }, { "Q4_Kx8", 5632 },
        { "Q6_Kx8", 256 }, { "Q6_Kx8", 768 }, { "Q6_Kx8", 5632 },
        { "Q8_0x8", 32 }, { "Q8_0x8", 96 }, { "Q8_0x8", 5632 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Every_path_packs_the_same_bytes(string name, int cols)
    {
        var layout = InterleavedLayouts.All.Single(l => l.Name == name);
        var plainGroupBytes = 8 * (int)Llamero.Gguf.GgmlTypes.Get(layout.Type).RowBytes(cols);
        var plain = new byte[plainGroupBytes];
        new Random(cols + name.Length).NextBytes(plain);
        var expected = new byte[layout.GroupBytes(cols)];
        Pack(name, SimdLevel.Scalar, plain, cols, expected);
        foreach (var level in SimdPath.Supported)
        {
            var packed = new byte[expected.Length];
            Pack(name, level, plain, cols, packed);
            Assert.True(expected.AsSpan().SequenceEqual(packed), $"{name} {cols} columns on {level}");
            var back = new byte[plain.Length];
            layout.Unpack(packed, cols, back);
            Assert.True(plain.AsSpan().SequenceEqual(back), $"{name} {cols} columns on {level}: unpacked");
        }
    }

    private static void Pack(string name, SimdLevel level, byte[] plain, int cols, byte[] group)
    {
        switch (name)
        {
            case "Q4_0x8": Q4_0x8.Pack(level, plain, cols, group); break;
            case "Q4_Kx8": Q4_Kx8.Pack(level, plain, cols, group); break;
            case "Q6_Kx8": Q6_Kx8.Pack(level, plain, cols, group); break;
            default:
                Q8_0x8.PackBlocks(level, ref plain[0], plain.Length / 8, cols / 32, ref group[0]);
                break;
        }
    }
}
