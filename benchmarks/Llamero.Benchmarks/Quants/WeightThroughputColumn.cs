using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Llamero.Gguf;

namespace Llamero.Benchmarks.Quants;

/// <summary>GB/s of weight bytes (parameters Type and Rows, rows of <see cref="Cols"/>), or that as a share of the
/// reference machine's single-core bandwidth.</summary>
internal sealed class WeightThroughputColumn(bool ratio) : IColumn
{
    public const int Cols = 4096;

    /// <summary>Single-core read bandwidth of the reference machine (GB/s).</summary>
    public const double SingleCoreBandwidth = 36.0;

    public string Id => ratio ? "WeightBandwidthRatio" : "WeightGBps";
    public string ColumnName => ratio ? "of 36 GB/s" : "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => ratio ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => ratio ? "Throughput / 36 GB/s single-core bandwidth" : "Weight bytes read per second";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean; // nanoseconds
        if (mean is not > 0)
            return "-";
        var type = Enum.Parse<GgmlType>((string)benchmarkCase.Parameters["Type"]);
        var rows = (int)benchmarkCase.Parameters["Rows"];
        var gbps = GgmlTypes.Get(type).RowBytes(Cols) * rows / mean.Value;
        return ratio ? $"{gbps / SingleCoreBandwidth:P0}" : $"{gbps:F1}";
    }
}
