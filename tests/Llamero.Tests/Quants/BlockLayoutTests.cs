using System.Runtime.CompilerServices;
using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Tests.Quants;

public class BlockLayoutTests
{
    [Fact]
    public void Block_structs_have_ggml_sizes()
    {
        Assert.Equal(18, Unsafe.SizeOf<Q4_0.Block>());
        Assert.Equal(20, Unsafe.SizeOf<Q4_1.Block>());
        Assert.Equal(22, Unsafe.SizeOf<Q5_0.Block>());
        Assert.Equal(24, Unsafe.SizeOf<Q5_1.Block>());
        Assert.Equal(34, Unsafe.SizeOf<Q8_0.Block>());
        Assert.Equal(36, Unsafe.SizeOf<Q8_1.Block>());
    }

    [Theory]
    [MemberData(nameof(QuantCases.Types), MemberType = typeof(QuantCases))]
    public void Registered_with_ggml_traits_and_partner(GgmlType type)
    {
        var format = QuantFormats.Get(type);
        Assert.Equal(type, format.Type);
        var expectedPartner = type switch
        {
            GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
            GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
            _ => type,
        };
        Assert.Equal(expectedPartner, format.DotPartner);
        Assert.Equal(GgmlTypes.Get(type), format.Traits);
    }

    [Fact]
    public void Row_length_not_a_multiple_of_the_block_names_the_type()
    {
        var ex = Assert.Throws<ArgumentException>(() => Q4_0.Dequantize(new byte[18], new float[31]));
        Assert.Contains("Q4_0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("31", ex.Message, StringComparison.Ordinal);
        var tooShort = Assert.Throws<ArgumentException>(() => Q8_0.Dequantize(new byte[33], new float[32]));
        Assert.Contains("34 bytes", tooShort.Message, StringComparison.Ordinal);
    }
}
