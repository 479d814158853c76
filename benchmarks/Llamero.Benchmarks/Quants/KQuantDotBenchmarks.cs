using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// One-core K-quant·Q8_K dot throughput in GB/s of weight bytes, Llamero beside llama.cpp's ggml_vec_dot_*:
/// <c>Rows</c> rows of 4096 weights against one activation row (16 rows stay in cache: kernel speed;
/// 4096 rows is the 4096×4096 matvec; 16384 rows streams from memory). Run:
/// <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- --filter '*KQuantDot*'</c>.
/// </summary>
[Config(typeof(Config))]
public unsafe class KQuantDotBenchmarks
{
    private const int Cols = 4096;

    /// <summary>Single-core read bandwidth of the reference machine (GB/s), for the ratio column.</summary>
    public const double SingleCoreBandwidth = 36.0;

    [Params("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")]
    public string Type { get; set; } = "Q4_K";

    [Params(16, 4096, 16384)]
    public int Rows { get; set; }

    private byte* _weights;
    private byte* _activations;
    private int _rowBytes;
    private QuantFormat _format = null!;
    private delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> _ggml;

    [GlobalSetup]
    public void Setup()
    {
        var type = Enum.Parse<GgmlType>(Type);
        _format = QuantFormats.Get(type);
        _rowBytes = (int)_format.Traits.RowBytes(Cols);
        var total = (nuint)_rowBytes * (nuint)Rows;
        _weights = (byte*)NativeMemory.AlignedAlloc(total, 64);
        var rng = new Random(1);
        var weights = new Span<byte>(_weights, checked((int)total));
        rng.NextBytes(weights);
        // Finite, small fp16 scales (random bytes elsewhere: speed does not depend on the values).
        var halves = HalfOffsets(type);
        for (var b = 0; b < weights.Length / _format.Traits.BytesPerBlock; b++)
            foreach (var off in halves)
                BitConverter.TryWriteBytes(weights[(b * _format.Traits.BytesPerBlock + off)..], (Half)0.01f);

        _activations = (byte*)NativeMemory.AlignedAlloc((nuint)(Cols / 256 * Q8_K.BlockBytes), 64);
        var x = new float[Cols];
        for (var i = 0; i < Cols; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        Q8_K.Quantize(x, new Span<byte>(_activations, Cols / 256 * Q8_K.BlockBytes));
        _ggml = GgmlRowNative.VecDot(type, GgmlType.Q8_K);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_weights);
        NativeMemory.AlignedFree(_activations);
    }

    [Benchmark(Baseline = true)]
    public float LlamaCpp()
    {
        float sum = 0, s;
        for (var r = 0; r < Rows; r++)
        {
            _ggml(Cols, &s, 0, _weights + (nint)r * _rowBytes, 0, _activations, 0, 1);
            sum += s;
        }
        return sum;
    }

    [Benchmark]
    public float Llamero()
    {
        float sum = 0;
        var act = new ReadOnlySpan<byte>(_activations, Cols / 256 * Q8_K.BlockBytes);
        var dot = _format.Dot;
        for (var r = 0; r < Rows; r++)
            sum += dot(new ReadOnlySpan<byte>(_weights + (nint)r * _rowBytes, _rowBytes), act, Cols);
        return sum;
    }

    private static int[] HalfOffsets(GgmlType type) => type switch
    {
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q6_K => [208],
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5).WithLaunchCount(1));
            AddColumn(new ThroughputColumn(ratio: false), new ThroughputColumn(ratio: true));
            HideColumns("Error", "StdDev");
        }
    }

    /// <summary>GB/s of weight bytes read per second, or that as a fraction of <see cref="SingleCoreBandwidth"/>.</summary>
    private sealed class ThroughputColumn(bool ratio) : IColumn
    {
        public string Id => ratio ? "BandwidthRatio" : "GBps";
        public string ColumnName => ratio ? "of 36 GB/s" : "GB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => ratio ? 1 : 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => ratio ? "Throughput divided by 36 GB/s single-core bandwidth" : "Weight bytes per second";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            if (mean is not > 0)
                return "-";
            var type = Enum.Parse<GgmlType>((string)benchmarkCase.Parameters["Type"]);
            var rows = (int)benchmarkCase.Parameters["Rows"];
            var gbps = GgmlTypes.Get(type).RowBytes(Cols) * rows / mean.Value;
            return ratio ? $"{gbps / SingleCoreBandwidth:P0}" : $"{gbps:F1}";
        }
    }
}
