using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants.Interleaved;

namespace Llamero.Tests.Kernels;

/// <summary>
/// Where <see cref="RepackedWeights"/> puts the repacked matrices: a region of at least 2 MiB starts on a 2 MiB
/// boundary (so transparent huge pages can back all of it; unless LLAMERO_HUGEPAGES=0), a smaller one on a page; either way the matrix multiplies
/// as the plain one does.
/// </summary>
[Collection(nameof(MatMulThreads))]
public class RepackedRegionTests
{
    [Theory]
    [InlineData(2048, RepackedWeights.HugePageBytes)] // 2048 Q8_0 rows of 1024: 2.2 MB
    [InlineData(64, 4096)]                           // 70 KB
    public void Region_starts_on_the_boundary_its_size_calls_for(int rows, int alignment)
    {
        const int cols = 1024;
        if (Environment.GetEnvironmentVariable(RepackedWeights.HugePagesVariable) == "0")
            alignment = 4096; // huge pages turned off: every region on a page
        var (plain, _) = MatMulTests.MakeWeights(GgmlType.Q8_0, rows, cols);
        using (plain)
        {
            using var repacked = new RepackedWeights(t => t == GgmlType.Q8_0 ? InterleavedLayouts.Default(t) : null);
            var matrix = repacked.Repack(in plain.Matrix);
            Assert.NotNull(matrix.Layout);
            Assert.Equal(0, matrix.Data % alignment);

            var x = Quants.QuantRows.Make("gaussian", cols, seed: rows);
            var expected = new float[rows];
            var actual = new float[rows];
            MatMul.Multiply(in plain.Matrix, x, expected, 1);
            MatMul.Multiply(in matrix, x, actual, 1);
            for (var r = 0; r < rows; r++)
                Assert.True(Math.Abs(expected[r] - actual[r]) <= 1e-4f * (1 + Math.Abs(expected[r])), $"row {r}: plain {expected[r]}, repacked {actual[r]}");
        }
    }
}
