using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;
using Llamero.Tests.Quants;

namespace Llamero.Tests.Kernels;

/// <summary>
/// K-blocking in the matmul (<see cref="GemmBlocking"/>): a repacked matrix whose rows are taken in column ranges gives the
/// bits of whole rows and of each activation row multiplied alone, for every registered layout, thread count and batch,
/// whatever the panel, range and claim sizes; rows wide enough to outgrow L2 are split by default.
/// </summary>
[Collection(nameof(MatMulThreads))]
public class GemmBlockingTests
{
    public static TheoryData<string> Layouts() => Quants.Interleaved.InterleavedLayoutTests.Layouts();

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Rows_in_ranges_give_the_bits_of_whole_rows(string name)
    {
        var layout = Quants.Interleaved.InterleavedLayoutTests.Find(name);
        var cols = 12 * GgmlTypes.Get(layout.Type).BlockSize;
        const int rows = 40;
        var (plain, _) = MatMulTests.MakeWeights(layout.Type, rows, cols);
        using var repacked = new RepackedWeights(_ => layout);
        var w = repacked.Repack(in plain.Matrix);
        var actBytes = (int)GgmlTypes.Get(QuantFormats.Get(layout.Type).DotPartner).RowBytes(cols);
        // (panel rows, range bytes, claim rows): ranges of one block, uneven ranges over several panels, claims of one group.
        (int Panel, int RangeBytes, int Claim)[] settings = [(16, 1, 8), (32, 5 * actBytes / 12 * 32, 16), (64, 7 * actBytes / 12 * 64, 128)];
        var saved = Save();
        try
        {
            foreach (var threads in new[] { 1, 2, 3 })
            {
                MatMul.Threads = threads;
                foreach (var batch in new[] { 2, 17, 40 })
                {
                    var x = QuantRows.Make("gaussian", batch * cols, seed: 7 * batch + threads);
                    GemmBlocking.Enabled = false;
                    var whole = Multiply(in w, x, batch);
                    foreach (var (panel, rangeBytes, claim) in settings)
                    {
                        GemmBlocking.Enabled = true;
                        GemmBlocking.MinTileBytes = 0;
                        (GemmBlocking.PanelRows, GemmBlocking.RangeBytes, GemmBlocking.ClaimRows) = (panel, rangeBytes, claim);
                        Assert.Equal(layout.HasGemmRange, GemmBlocking.Applies(layout.HasGemmRange, actBytes, batch));
                        AssertBits(whole, Multiply(in w, x, batch), $"{name} threads {threads} batch {batch} panel {panel} range {rangeBytes} claim {claim}");
                    }
                    for (var b = 0; b < batch; b += 13)
                        AssertBits(Multiply(in w, x.AsSpan(b * cols, cols).ToArray(), 1), whole.AsSpan(b * rows, rows).ToArray(), $"{name} batch {batch} row {b} alone");
                }
            }
        }
        finally
        {
            Restore(saved);
        }
        GC.KeepAlive(plain);
    }

    [Fact]
    public void Rows_whose_tile_outgrows_L2_are_split_by_default_and_give_the_same_bits()
    {
        var layout = InterleavedLayouts.Default(GgmlType.Q4_K)!;
        Assert.True(layout.HasGemmRange);
        var partner = GgmlTypes.Get(GgmlType.Q8_K);
        // The narrowest row whose 16-row tile of Q8_K activations is larger than L2.
        var cols = 256;
        while (GemmBlocking.Tile * partner.RowBytes(cols) <= GemmBlocking.MinTileBytes)
            cols += 256;
        Assert.True(GemmBlocking.Applies(true, (int)partner.RowBytes(cols), 17));
        Assert.False(GemmBlocking.Applies(true, (int)partner.RowBytes(cols - 256), 17));
        Assert.False(GemmBlocking.Applies(true, (int)partner.RowBytes(cols), 1));
        var (plain, _) = MatMulTests.MakeWeights(GgmlType.Q4_K, 16, cols);
        using var repacked = new RepackedWeights(_ => layout);
        var w = repacked.Repack(in plain.Matrix);
        var x = QuantRows.Make("gaussian", 17 * cols, seed: 3);
        var saved = Save();
        try
        {
            MatMul.Threads = 2;
            var split = Multiply(in w, x, 17);
            GemmBlocking.Enabled = false;
            AssertBits(Multiply(in w, x, 17), split, $"Q4_Kx8 {cols} wide");
        }
        finally
        {
            Restore(saved);
        }
        GC.KeepAlive(plain);
    }

    [Theory]
    [InlineData("1024K", 1 << 20)]
    [InlineData("512K", 512 * 1024)]
    [InlineData("2M", 2 << 20)]
    [InlineData("65536", 65536)]
    [InlineData("", null)]
    [InlineData("lots", null)]
    [InlineData("-4K", null)]
    public void Cache_sizes_read_as_sysfs_writes_them(string text, int? bytes) => Assert.Equal(bytes, CacheSizes.ParseSize(text));

    private static float[] Multiply(in WeightMatrix w, float[] x, int batch)
    {
        var y = new float[batch * w.Rows];
        MatMul.Multiply(in w, x, y, batch);
        return y;
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what} [{i}]: whole rows {expected[i]:R}, ranges {actual[i]:R}");
    }

    private static (int Threads, bool Enabled, int MinTile, int Panel, int Range, int Claim) Save() =>
        (MatMul.Threads, GemmBlocking.Enabled, GemmBlocking.MinTileBytes, GemmBlocking.PanelRows, GemmBlocking.RangeBytes, GemmBlocking.ClaimRows);

    private static void Restore((int Threads, bool Enabled, int MinTile, int Panel, int Range, int Claim) s)
    {
        MatMul.Threads = s.Threads;
        (GemmBlocking.Enabled, GemmBlocking.MinTileBytes, GemmBlocking.PanelRows, GemmBlocking.RangeBytes, GemmBlocking.ClaimRows) =
            (s.Enabled, s.MinTile, s.Panel, s.Range, s.Claim);
    }
}
