using Llamero.Gguf;

namespace Llamero.Tests.Support;

public class GgmlTypeTests
{
    [Theory]
    [InlineData(GgmlType.Q4_0, 32, 18)]
    [InlineData(GgmlType.Q8_0, 32, 34)]
    [InlineData(GgmlType.Q2_K, 256, 84)]
    [InlineData(GgmlType.Q3_K, 256, 110)]
    [InlineData(GgmlType.Q4_K, 256, 144)]
    [InlineData(GgmlType.Q5_K, 256, 176)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.Q8_K, 256, 292)]
    public void Block_sizes_are_ggmls(GgmlType type, int blockSize, int bytes)
    {
        var t = GgmlTypes.Get(type);
        Assert.Equal(blockSize, t.BlockSize);
        Assert.Equal(bytes, t.BytesPerBlock);
    }

    [Fact]
    public void Unknown_id_is_named()
    {
        Assert.False(GgmlTypes.IsKnown(4));
        Assert.Equal("type#4", GgmlTypes.NameOf((GgmlType)4));
        var ex = Assert.Throws<NotSupportedException>(() => GgmlTypes.Get((GgmlType)4));
        Assert.Contains("4", ex.Message);
    }

    [Fact]
    public void Shared_models_are_present()
    {
        Assert.True(File.Exists(TestPaths.Stories260K), TestPaths.Stories260K);
    }
}
