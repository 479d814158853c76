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
/// One core, float and 32-element block formats. <c>Dot</c>: <c>Rows</c> rows of 4096 weights against one activation
/// row (16 rows stay in cache: kernel speed; 4096 rows is the 4096×4096 matvec streamed from memory), Llamero's
/// format Dot beside ggml_vec_dot_*. <c>MatVec</c>: the whole y = W·x of a 4096×4096 matrix on one thread,
/// activations quantized included: <see cref="MatMul.Multiply"/> beside quantize_row + ggml_vec_dot per row.
/// Run: <c>dotnet run -c Release --project benchmarks/Llamero.Benchmarks -- --filter '*BlockDot*'</c>.
/// </summary>
[Config(typeof(Config))]
public unsafe class BlockDotBenchmarks
{
    private const int Cols = WeightThroughputColumn.Cols;

    [Params("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q6_K")]
    public string Type { get; set; } = "Q4_0";

    [Params(16, 4096)]
    public int Rows { get; set; }

    private byte* _weights;
    private byte* _activations;
    private float[] _x = [];
    private float[] _y = [];
    private int _rowBytes;
    private int _actBytes;
    private GgmlType _type;
    private QuantFormat _format = null!;
    private WeightMatrix _matrix;
    private delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> _ggmlDot;
    private delegate* unmanaged<float*, byte*, long, void> _ggmlFromFloat;

    [GlobalSetup]
    public void Setup()
    {
        _type = Enum.Parse<GgmlType>(Type);
        _format = QuantFormats.Get(_type);
        _rowBytes = (int)_format.Traits.RowBytes(Cols);
        var total = (nuint)_rowBytes * (nuint)Rows;
        _weights = (byte*)NativeMemory.AlignedAlloc(total, 64);
        var rng = new Random(1);
        var row = new float[Cols];
        for (var r = 0; r < Rows; r++)
        {
            for (var i = 0; i < Cols; i++)
                row[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            _format.Quantize(row, new Span<byte>(_weights + (nint)r * _rowBytes, _rowBytes));
        }
        _x = new float[Cols];
        for (var i = 0; i < Cols; i++)
            _x[i] = (float)(rng.NextDouble() * 2 - 1);
        _y = new float[Rows];
        var partner = QuantFormats.Get(_format.DotPartner);
        _actBytes = (int)partner.Traits.RowBytes(Cols);
        _activations = (byte*)NativeMemory.AlignedAlloc((nuint)_actBytes, 64);
        MatMul.ActivationQuantizer(_format.DotPartner)(_x, new Span<byte>(_activations, _actBytes));
        _matrix = new WeightMatrix(_type, (nint)_weights, Rows, Cols);
        _ggmlDot = GgmlRowNative.VecDot(_type, _format.DotPartner);
        _ggmlFromFloat = GgmlRowNative.FromFloat(_format.DotPartner);
        MatMul.Threads = 1;
        JitWarmup.Run(400, () => DotLlamero(), () => MatVecLlamero());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_weights);
        NativeMemory.AlignedFree(_activations);
    }

    [Benchmark(Baseline = true)]
    public float DotLlamaCpp()
    {
        float sum = 0, s;
        for (var r = 0; r < Rows; r++)
        {
            _ggmlDot(Cols, &s, 0, _weights + (nint)r * _rowBytes, 0, _activations, 0, 1);
            sum += s;
        }
        return sum;
    }

    [Benchmark]
    public float DotLlamero()
    {
        float sum = 0;
        var act = new ReadOnlySpan<byte>(_activations, _actBytes);
        var dot = _format.Dot;
        for (var r = 0; r < Rows; r++)
            sum += dot(new ReadOnlySpan<byte>(_weights + (nint)r * _rowBytes, _rowBytes), act, Cols);
        return sum;
    }

    [Benchmark]
    public float MatVecLlamaCpp()
    {
        fixed (float* x = _x)
        fixed (float* y = _y)
        {
            var act = _ggmlFromFloat == null ? (byte*)x : _activations;
            if (_ggmlFromFloat != null)
                _ggmlFromFloat(x, _activations, Cols);
            for (var r = 0; r < Rows; r++)
                _ggmlDot(Cols, y + r, 0, _weights + (nint)r * _rowBytes, 0, act, 0, 1);
            return y[0];
        }
    }

    [Benchmark]
    public float MatVecLlamero()
    {
        MatMul.Multiply(in _matrix, _x, _y, 1);
        return _y[0];
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // Fixed, small invocation counts: a 4096-row pass takes milliseconds, so pilot stages only cost time.
            AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(5)
                .WithLaunchCount(1).WithInvocationCount(16).WithUnrollFactor(1));
            AddColumn(new WeightThroughputColumn(ratio: false), new WeightThroughputColumn(ratio: true));
            HideColumns("Error", "StdDev");
        }
    }
}
