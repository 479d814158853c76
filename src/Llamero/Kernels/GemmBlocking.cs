namespace Llamero.Kernels;

/// <summary>
/// When and how <see cref="InterleavedKernel{T}"/> takes a prompt batch's rows in column ranges (K-blocking). Whole rows
/// reuse one 16-row tile of activations across the claimed groups while it stays in L2; once the tile outgrows L2 it
/// streams from L3 for every group (a 114688-wide Q4_K row ran at 0.8x the speed of a 28672-wide one). In ranges, one range
/// of every activation row of a panel and the same range of every claimed group stay in L2 while the tiles and groups pass
/// over them. Rows are split only when the tile is larger than L2: below that, whole rows were as fast or a few percent
/// faster (measured on a 1 MB L2: Llama-2-70B's ffn_down, a 512 KB tile, stays whole; a 1.5 MB tile ran 1.2-1.35x faster split).
/// Fields are settable for benchmarks and tests; results do not depend on them (a ranged Gemm is bit-identical to whole rows).
/// </summary>
internal static class GemmBlocking
{
    /// <summary>Activation rows per Gemm call (the tile), as <see cref="InterleavedKernel{T}"/> passes them.</summary>
    public const int Tile = 16;

    /// <summary>L2 bytes of one core (Linux sysfs), or 1 MB where it cannot be read.</summary>
    public static readonly int L2Bytes = CacheSizes.L2BytesOrDefault(1 << 20);

    /// <summary>False: never split rows (the benchmarks' A/B switch).</summary>
    public static bool Enabled = true;

    /// <summary>Rows are split when one tile of activations is larger than this.</summary>
    public static int MinTileBytes = L2Bytes;

    /// <summary>Activation rows one pass over the ranges takes (a multiple of <see cref="Tile"/>; the claimed groups' weights are re-read per panel).</summary>
    public static int PanelRows = 128;

    /// <summary>Bytes of one range of a panel's activation rows (beside the claimed groups' range and the results, in L2).</summary>
    public static int RangeBytes = L2Bytes / 3;

    /// <summary>Most weight rows one claim takes when its rows are split (each group's range is then reused by a whole panel).</summary>
    public static int ClaimRows = 128;

    /// <summary>True when a layout that has a ranged Gemm splits rows of <paramref name="activationRowBytes"/> for <paramref name="batch"/> activation rows.</summary>
    public static bool Applies(bool hasGemmRange, int activationRowBytes, int batch) =>
        Enabled && hasGemmRange && batch > 1 && (long)Math.Min(batch, Tile) * activationRowBytes > MinTileBytes;

    /// <summary>Columns per range (whole blocks of <paramref name="blockSize"/>, at least one) for a panel of <paramref name="panel"/> rows.</summary>
    public static int RangeCols(int cols, int activationRowBytes, int panel, int blockSize)
    {
        var blocks = cols / blockSize;
        var blockBytes = (double)activationRowBytes / blocks;
        var perRange = (int)Math.Clamp(RangeBytes / (panel * blockBytes), 1, blocks);
        return perRange * blockSize;
    }
}
