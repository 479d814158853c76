using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;
using Llamero.Quants.Interleaved;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// Every registered interleaved layout (<see cref="InterleavedLayouts.All"/>) beside its plain format, one core, a
/// 4096 x 4096 matrix: token generation (<c>PlainDot</c> row by row against <c>Gemv</c> group by group, weights cycled
/// through <see cref="Copies"/> copies so they come from memory, reported as GB/s of weight bytes) and the prompt tile
/// (<c>PlainDotBatch</c> against <c>Gemm</c>, 16 activation rows, reported as G multiply-adds/s). The thread-CPU-time
/// measure adds the matvec cases on 256 cache-resident rows (<c>PlainDotHot</c>, <c>GemvHot</c>): kernel speed apart from memory.
/// Run: <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- --filter '*Interleaved*'</c>, or on a
/// busy machine <c>-- interleaved</c>, which times the same calls by the thread's own CPU time (<see cref="Measure"/>).
/// </summary>
[Config(typeof(Config))]
public unsafe class InterleavedBenchmarks
{
    private const int Cols = 4096;
    private const int Rows = 4096;
    private const int Tile = 16;

    /// <summary>Copies of the matrix cycled by the matvec cases: 8 x 9 MB (Q4_K) is well past the 32 MB L3.</summary>
    private const int Copies = 8;

    private delegate void BatchFn(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride);

    /// <summary>Names of the registered layouts (the parameter BenchmarkDotNet sweeps).</summary>
    public static IEnumerable<string> LayoutNames => InterleavedLayouts.All.Select(l => l.Name);

    [ParamsSource(nameof(LayoutNames))]
    public string Layout { get; set; } = "";

    private WeightLayout _layout = null!;
    private QuantFormat _format = null!;
    private BatchFn _dotBatch = null!;
    private byte* _plain;
    private byte* _packed;
    private byte* _activations;
    private long _rowBytes;
    private long _groupBytes;
    private int _actBytes;
    private float[] _results = [];
    private int _copy;

    [GlobalSetup]
    public void Setup()
    {
        _layout = InterleavedLayouts.All.First(l => l.Name == Layout);
        _format = QuantFormats.Get(_layout.Type);
        _dotBatch = PlainBatch(_layout.Type);
        _rowBytes = _format.Traits.RowBytes(Cols);
        _groupBytes = _layout.GroupBytes(Cols);
        var matrixBytes = _rowBytes * Rows;
        _plain = (byte*)NativeMemory.AlignedAlloc((nuint)(matrixBytes * Copies), 64);
        _packed = (byte*)NativeMemory.AlignedAlloc((nuint)(_groupBytes * (Rows / _layout.RowGroup) * Copies), 64);
        // Quantizing 16M weights per format takes long: 64 real rows, tiled over the matrix.
        var rng = new Random(1);
        var row = new float[Cols];
        const int distinct = 64;
        for (var r = 0; r < distinct; r++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            _format.Quantize(row, new Span<byte>(_plain + r * _rowBytes, (int)_rowBytes));
        }
        for (long r = distinct; r < (long)Rows * Copies; r++)
            Buffer.MemoryCopy(_plain + r % distinct * _rowBytes, _plain + r * _rowBytes, _rowBytes, _rowBytes);
        var groups = (long)Rows / _layout.RowGroup * Copies;
        for (long g = 0; g < groups; g++)
            _layout.Pack(new ReadOnlySpan<byte>(_plain + g * _layout.RowGroup * _rowBytes, (int)(_layout.RowGroup * _rowBytes)), Cols,
                new Span<byte>(_packed + g * _groupBytes, (int)_groupBytes));
        _actBytes = (int)QuantFormats.Get(_format.DotPartner).Traits.RowBytes(Cols);
        _activations = (byte*)NativeMemory.AlignedAlloc((nuint)(_actBytes * Tile), 64);
        for (var t = 0; t < Tile; t++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1);
            MatMul.ActivationQuantizer(_format.DotPartner)(row, new Span<byte>(_activations + t * _actBytes, _actBytes));
        }
        _results = new float[Tile * 8];
        JitWarmup.Run(400, () => PlainDot(), () => Gemv(), () => PlainDotBatch(), () => Gemm());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_plain);
        NativeMemory.AlignedFree(_packed);
        NativeMemory.AlignedFree(_activations);
    }

    /// <summary>The plain format's DotBatch (one weight row against the 16-row tile).</summary>
    private static BatchFn PlainBatch(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => Q4_0.DotBatch,
        GgmlType.Q4_1 => Q4_1.DotBatch,
        GgmlType.Q5_0 => Q5_0.DotBatch,
        GgmlType.Q5_1 => Q5_1.DotBatch,
        GgmlType.Q8_0 => Q8_0.DotBatch,
        GgmlType.Q2_K => Q2_K.DotBatch,
        GgmlType.Q3_K => Q3_K.DotBatch,
        GgmlType.Q4_K => Q4_K.DotBatch,
        GgmlType.Q5_K => Q5_K.DotBatch,
        GgmlType.Q6_K => Q6_K.DotBatch,
        GgmlType.F16 => F16.DotBatch,
        GgmlType.BF16 => BF16.DotBatch,
        GgmlType.F32 => F32.DotBatch,
        _ => throw new ArgumentException($"No plain batch dot for {type}."),
    };

    private long NextCopy() => _copy = (_copy + 1) % Copies;

    /// <summary>Token generation, plain rows: one Dot per weight row.</summary>
    [Benchmark(Baseline = true)]
    public float PlainDot()
    {
        var plain = _plain + NextCopy() * Rows * _rowBytes;
        var act = new ReadOnlySpan<byte>(_activations, _actBytes);
        var sum = 0f;
        for (var r = 0; r < Rows; r++)
            sum += _format.Dot(new ReadOnlySpan<byte>(plain + r * _rowBytes, (int)_rowBytes), act, Cols);
        return sum;
    }

    /// <summary>Token generation, interleaved: one Gemv per group.</summary>
    [Benchmark]
    public float Gemv()
    {
        var packed = _packed + NextCopy() * (Rows / _layout.RowGroup) * _groupBytes;
        var act = new ReadOnlySpan<byte>(_activations, _actBytes);
        var level = SimdPath.Current;
        for (var g = 0; g < Rows / _layout.RowGroup; g++)
            _layout.Gemv(level, new ReadOnlySpan<byte>(packed + g * _groupBytes, (int)_groupBytes), act, Cols, _results);
        return _results[0];
    }

    /// <summary>Rows of the cache-resident matvec cases of <see cref="Measure"/> (compute, not memory, bound).</summary>
    private const int HotRows = 256;

    private float PlainDotHot()
    {
        var act = new ReadOnlySpan<byte>(_activations, _actBytes);
        var sum = 0f;
        for (var r = 0; r < HotRows; r++)
            sum += _format.Dot(new ReadOnlySpan<byte>(_plain + r * _rowBytes, (int)_rowBytes), act, Cols);
        return sum;
    }

    private float GemvHot()
    {
        var act = new ReadOnlySpan<byte>(_activations, _actBytes);
        var level = SimdPath.Current;
        for (var g = 0; g < HotRows / _layout.RowGroup; g++)
            _layout.Gemv(level, new ReadOnlySpan<byte>(_packed + g * _groupBytes, (int)_groupBytes), act, Cols, _results);
        return _results[0];
    }

    /// <summary>Prompt tile, plain rows: DotBatch of each weight row against 16 activation rows.</summary>
    [Benchmark]
    public float PlainDotBatch()
    {
        var acts = new ReadOnlySpan<byte>(_activations, _actBytes * Tile);
        for (var r = 0; r < Rows; r++)
            _dotBatch(new ReadOnlySpan<byte>(_plain + r * _rowBytes, (int)_rowBytes), acts, _actBytes, Tile, Cols, _results, 1);
        return _results[0];
    }

    /// <summary>Prompt tile, interleaved: Gemm of each group against 16 activation rows.</summary>
    [Benchmark]
    public float Gemm()
    {
        var acts = new ReadOnlySpan<byte>(_activations, _actBytes * Tile);
        var level = SimdPath.Current;
        for (var g = 0; g < Rows / _layout.RowGroup; g++)
            _layout.Gemm(level, new ReadOnlySpan<byte>(_packed + g * _groupBytes, (int)_groupBytes), acts, _actBytes, Tile, Cols, _results, _layout.RowGroup);
        return _results[0];
    }

    /// <summary>What one call of <paramref name="method"/> does: GB/s of weight bytes (matvec) or G multiply-adds/s (tile), from seconds.</summary>
    private static string Throughput(string method, GgmlType type, double seconds)
    {
        var weightBytes = (double)GgmlTypes.Get(type).RowBytes(Cols) * Rows;
        if (method is nameof(PlainDotHot) or nameof(GemvHot))
            return $"{weightBytes * HotRows / Rows / seconds / 1e9:F1} GB/s";
        return method is nameof(PlainDot) or nameof(Gemv)
            ? $"{weightBytes / seconds / 1e9:F1} GB/s"
            : $"{(double)Rows * Cols * Tile / seconds / 1e9:F1} GMAC/s";
    }

    /// <summary>
    /// <c>-- interleaved [rounds]</c>: each case timed by this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), A/B in one
    /// process, rounds interleaved and the best round kept, so other processes on a shared machine barely move it.
    /// </summary>
    public static int Measure(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0]) : 5;
        Thread.BeginThreadAffinity();
        foreach (var name in LayoutNames)
        {
            var bench = new InterleavedBenchmarks { Layout = name };
            bench.Setup();
            var cases = new (string Name, Func<float> Run, int Calls)[]
            {
                (nameof(PlainDot), bench.PlainDot, Copies), (nameof(Gemv), bench.Gemv, Copies),
                (nameof(PlainDotBatch), bench.PlainDotBatch, 1), (nameof(Gemm), bench.Gemm, 1),
                (nameof(PlainDotHot), bench.PlainDotHot, 32), (nameof(GemvHot), bench.GemvHot, 32),
            };
            var best = cases.Select(_ => double.MaxValue).ToArray();
            for (var round = 0; round < rounds; round++)
                for (var c = 0; c < cases.Length; c++)
                {
                    var start = Llamero.Diagnostics.ThreadCpuTime.Seconds();
                    for (var k = 0; k < cases[c].Calls; k++)
                        cases[c].Run();
                    best[c] = Math.Min(best[c], (Llamero.Diagnostics.ThreadCpuTime.Seconds() - start) / cases[c].Calls);
                }
            Console.WriteLine($"{name} ({SimdPath.Current}, thread CPU time, best of {rounds}):");
            for (var c = 0; c < cases.Length; c++)
                Console.WriteLine($"  {cases[c].Name,-14} {best[c] * 1e3,8:F2} ms  {Throughput(cases[c].Name, bench._layout.Type, best[c])}");
            Console.WriteLine($"  Gemv/PlainDot {best[0] / best[1]:F2}x (cache-resident {best[4] / best[5]:F2}x)   Gemm/PlainDotBatch {best[2] / best[3]:F2}x");
            bench.Cleanup();
        }
        return 0;
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5)
                .WithLaunchCount(1).WithInvocationCount(4).WithUnrollFactor(1));
            AddColumn(new ThroughputColumn());
            HideColumns("Error", "StdDev");
        }
    }

    /// <summary>GB/s of weight bytes for the matvec cases, G multiply-adds/s for the tile cases.</summary>
    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "InterleavedThroughput";
        public string ColumnName => "Throughput";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => false;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Weight bytes per second (PlainDot, Gemv) or multiply-adds per second (PlainDotBatch, Gemm)";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean; // nanoseconds
            if (mean is not > 0)
                return "-";
            var layout = InterleavedLayouts.All.First(l => l.Name == (string)benchmarkCase.Parameters["Layout"]);
            return Throughput(benchmarkCase.Descriptor.WorkloadMethod.Name, layout.Type, mean.Value * 1e-9);
        }
    }
}
