using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Benchmarks.Quants;

/// <summary>
/// The prompt-processing tile on one core: a 2048×2048 K-quant weight matrix against 16 Q8_K activation rows
/// (what MatMul hands a format per tile), as llama.cpp's ggml_vec_dot_*_q8_K once per (weight row, activation
/// row) pair, Llamero's single-row Dot the same way, and Llamero's DotBatch (each weight row decoded once for all
/// 16 rows). Run: <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- --filter '*KQuantBatchDot*'</c>.
/// </summary>
[Config(typeof(Config))]
public unsafe class KQuantBatchDotBenchmarks
{
    private const int Cols = 2048;
    private const int Rows = 2048;
    private const int Batch = 16;

    /// <summary>One weight row against several activation rows (a format's static DotBatch).</summary>
    private delegate void DotBatchRow(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int activationStride, int count, int n,
        Span<float> results, int resultStride);

    [Params("Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")]
    public string Type { get; set; } = "Q4_K";

    private byte* _weights;
    private byte* _activations;
    private float[] _results = [];
    private int _rowBytes;
    private int _actRowBytes;
    private QuantFormat _format = null!;
    private DotBatchRow _dotBatch = null!;
    private delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> _ggml;

    [GlobalSetup]
    public void Setup()
    {
        var type = Enum.Parse<GgmlType>(Type);
        _format = QuantFormats.Get(type);
        _dotBatch = DotBatchOf(type);
        _rowBytes = (int)_format.Traits.RowBytes(Cols);
        _weights = (byte*)NativeMemory.AlignedAlloc((nuint)_rowBytes * Rows, 64);
        var rng = new Random(1);
        var row = new float[Cols];
        for (var r = 0; r < Rows; r++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1);
            _format.Quantize(row, new Span<byte>(_weights + (nint)r * _rowBytes, _rowBytes));
        }
        _actRowBytes = Cols / 256 * Q8_K.BlockBytes;
        _activations = (byte*)NativeMemory.AlignedAlloc((nuint)(_actRowBytes * Batch), 64);
        for (var b = 0; b < Batch; b++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1);
            Q8_K.Quantize(row, new Span<byte>(_activations + b * _actRowBytes, _actRowBytes));
        }
        _results = new float[Rows * Batch];
        _ggml = GgmlRowNative.VecDot(type, GgmlType.Q8_K);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_weights);
        NativeMemory.AlignedFree(_activations);
    }

    [Benchmark(Baseline = true)]
    public float LlamaCppVecDot()
    {
        fixed (float* y = _results)
            for (var r = 0; r < Rows; r++)
                for (var b = 0; b < Batch; b++)
                    _ggml(Cols, y + b * Rows + r, 0, _weights + (nint)r * _rowBytes, 0, _activations + b * _actRowBytes, 0, 1);
        return _results[Rows - 1];
    }

    [Benchmark]
    public float LlameroDot()
    {
        var dot = _format.Dot;
        for (var r = 0; r < Rows; r++)
        {
            var w = new ReadOnlySpan<byte>(_weights + (nint)r * _rowBytes, _rowBytes);
            for (var b = 0; b < Batch; b++)
                _results[b * Rows + r] = dot(w, new ReadOnlySpan<byte>(_activations + b * _actRowBytes, _actRowBytes), Cols);
        }
        return _results[Rows - 1];
    }

    [Benchmark]
    public float LlameroDotBatch()
    {
        var acts = new ReadOnlySpan<byte>(_activations, _actRowBytes * Batch);
        for (var r = 0; r < Rows; r++)
            _dotBatch(new ReadOnlySpan<byte>(_weights + (nint)r * _rowBytes, _rowBytes), acts, _actRowBytes, Batch, Cols, _results.AsSpan(r), Rows);
        return _results[Rows - 1];
    }

    private static DotBatchRow DotBatchOf(GgmlType type) => type switch
    {
        GgmlType.Q2_K => Q2_K.DotBatch,
        GgmlType.Q3_K => Q3_K.DotBatch,
        GgmlType.Q4_K => Q4_K.DotBatch,
        GgmlType.Q5_K => Q5_K.DotBatch,
        GgmlType.Q6_K => Q6_K.DotBatch,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(7).WithLaunchCount(1));
            AddColumn(BenchmarkDotNet.Columns.StatisticColumn.Min);
            HideColumns("Error", "StdDev");
        }
    }
}
