using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Quants;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// The prompt-processing tile on one core: <c>Rows</c> weight rows of 4096 against a tile of 16 activation rows
/// (MatMul's batch tile). <c>TileLlamaCpp</c> calls ggml_vec_dot once per (weight row, activation row);
/// <c>TileOneByOne</c> is Llamero's plain fallback (one Dot per activation row); <c>TileLlamero</c> is the format's
/// DotBatch. The GB/s column counts each weight byte once per tile.
/// Run: <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- --filter '*BatchDot*'</c>.
/// </summary>
[Config(typeof(Config))]
public unsafe class BatchDotBenchmarks
{
    private const int Cols = WeightThroughputColumn.Cols;
    private const int Tile = 16;

    private delegate void BatchFn(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride);

    [Params("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")]
    public string Type { get; set; } = "Q4_0";

    [Params(16, 1024)]
    public int Rows { get; set; }

    private byte* _weights;
    private byte* _activations;
    private float[] _results = [];
    private int _rowBytes;
    private int _actBytes;
    private BatchFn _batch = null!;
    private BatchFn _oneByOne = null!;
    private delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> _ggmlDot;

    [GlobalSetup]
    public void Setup()
    {
        var type = Enum.Parse<GgmlType>(Type);
        var format = QuantFormats.Get(type);
        _rowBytes = (int)format.Traits.RowBytes(Cols);
        _weights = (byte*)NativeMemory.AlignedAlloc((nuint)_rowBytes * (nuint)Rows, 64);
        var rng = new Random(1);
        var row = new float[Cols];
        for (var r = 0; r < Rows; r++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            format.Quantize(row, new Span<byte>(_weights + (nint)r * _rowBytes, _rowBytes));
        }
        _actBytes = (int)QuantFormats.Get(format.DotPartner).Traits.RowBytes(Cols);
        _activations = (byte*)NativeMemory.AlignedAlloc((nuint)_actBytes * Tile, 64);
        for (var t = 0; t < Tile; t++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1);
            MatMul.ActivationQuantizer(format.DotPartner)(row, new Span<byte>(_activations + (nint)t * _actBytes, _actBytes));
        }
        _results = new float[Tile];
        (_batch, _oneByOne) = type switch
        {
            GgmlType.F32 => Of<F32>(),
            GgmlType.F16 => Of<F16>(),
            GgmlType.BF16 => Of<BF16>(),
            GgmlType.Q4_0 => Of<Q4_0>(),
            GgmlType.Q4_1 => Of<Q4_1>(),
            GgmlType.Q5_0 => Of<Q5_0>(),
            GgmlType.Q5_1 => Of<Q5_1>(),
            GgmlType.Q8_0 => Of<Q8_0>(),
            GgmlType.Q2_K => Of<Q2_K>(),
            GgmlType.Q3_K => Of<Q3_K>(),
            GgmlType.Q4_K => Of<Q4_K>(),
            GgmlType.Q5_K => Of<Q5_K>(),
            GgmlType.Q6_K => Of<Q6_K>(),
            _ => throw new ArgumentException($"No batch benchmark for {Type}."),
        };
        _ggmlDot = GgmlRowNative.VecDot(type, format.DotPartner);
        JitWarmup.Run(400, () => TileLlamaCpp(), () => TileOneByOne(), () => TileLlamero());
    }

    private static (BatchFn, BatchFn) Of<T>() where T : IQuantFormat => (T.DotBatch, BatchDot.OneByOne<T>);

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_weights);
        NativeMemory.AlignedFree(_activations);
    }

    [Benchmark(Baseline = true)]
    public float TileLlamaCpp()
    {
        fixed (float* y = _results)
        {
            for (var r = 0; r < Rows; r++)
                for (var t = 0; t < Tile; t++)
                    _ggmlDot(Cols, y + t, 0, _weights + (nint)r * _rowBytes, 0, _activations + (nint)t * _actBytes, 0, 1);
            return y[0];
        }
    }

    [Benchmark]
    public float TileOneByOne() => Run(_oneByOne);

    [Benchmark]
    public float TileLlamero() => Run(_batch);

    private float Run(BatchFn batch)
    {
        var acts = new ReadOnlySpan<byte>(_activations, _actBytes * Tile);
        for (var r = 0; r < Rows; r++)
            batch(new ReadOnlySpan<byte>(_weights + (nint)r * _rowBytes, _rowBytes), acts, _actBytes, Tile, Cols, _results, 1);
        return _results[0];
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5)
                .WithLaunchCount(1).WithInvocationCount(8).WithUnrollFactor(1));
            AddColumn(new WeightThroughputColumn(ratio: false));
            HideColumns("Error", "StdDev");
        }
    }
}
