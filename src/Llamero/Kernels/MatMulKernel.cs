using Llamero.Gguf;
using Llamero.Quants;

namespace Llamero.Kernels;

/// <summary>
/// The matrix multiplication for one weight format, specialised by the JIT (T is a struct). Activations are
/// quantized once into a reusable pinned buffer; weight rows are handed out in chunks through an atomic counter
/// (so a busy core takes fewer); inside a chunk, activations are taken in tiles so a prompt batch reuses each
/// weight row from cache. One instance per format; calls for the same format are serialised.
/// </summary>
internal sealed unsafe class MatMulKernel<T> : IParallelWork
    where T : IQuantFormat
{
    // Activation rows per tile: 16 Q8 rows of 4096 are ~70 KB, which stays in L2 beside the weight chunk.
    private const int BatchTile = 16;
    // Below this many weights, waking workers costs more than it saves.
    private const long ParallelThreshold = 1 << 16;

    private static readonly MatMulKernel<T> Instance = new();
    private static readonly QuantFormat.QuantizeRow QuantizeActivation = MatMul.ActivationQuantizer(T.DotPartner);
    private static readonly GgmlTypeTraits PartnerTraits = GgmlTypes.Get(T.DotPartner);

    private byte[] _activations = [];
    private byte* _act;
    private int _actRowBytes;
    private byte* _weights;
    private long _rowBytes;
    private int _rows;
    private int _cols;
    private int _batch;
    private float* _y;
    private int _chunkRows;
    private int _nextChunk;

    public static void Multiply(in WeightMatrix w, ReadOnlySpan<float> x, Span<float> y, int batch)
    {
        var k = Instance;
        lock (k)
        {
            k.QuantizeActivations(x, batch, w.Cols);
            var pool = MatMul.Pool;
            var participants = (long)w.Rows * w.Cols < ParallelThreshold ? 1 : pool.Threads;
            fixed (byte* act = k._activations)
            fixed (float* py = y)
            {
                k._act = act;
                k._y = py;
                k._weights = (byte*)w.Data;
                k._rowBytes = w.RowBytes;
                k._rows = w.Rows;
                k._cols = w.Cols;
                k._batch = batch;
                // About eight chunks per participant, in whole groups of four rows.
                k._chunkRows = Math.Max(4, (w.Rows / (participants * 8) + 3) & ~3);
                k._nextChunk = 0;
                try
                {
                    pool.Run(k, participants);
                }
                finally
                {
                    k._act = null;
                    k._y = null;
                    k._weights = null;
                }
            }
        }
    }

    private void QuantizeActivations(ReadOnlySpan<float> x, int batch, int cols)
    {
        _actRowBytes = checked((int)PartnerTraits.RowBytes(cols));
        if (cols % PartnerTraits.BlockSize != 0)
            throw new ArgumentException($"MatMul: a row of {cols} elements is not a whole number of {PartnerTraits.Name} blocks.");
        var needed = checked(_actRowBytes * batch);
        if (_activations.Length < needed)
            _activations = GC.AllocateUninitializedArray<byte>(needed, pinned: true);
        for (var b = 0; b < batch; b++)
            QuantizeActivation(x.Slice(b * cols, cols), _activations.AsSpan(b * _actRowBytes, _actRowBytes));
    }

    public void Execute(int worker, int workers)
    {
        while (true)
        {
            var chunk = Interlocked.Increment(ref _nextChunk) - 1;
            var r0 = (long)chunk * _chunkRows;
            if (r0 >= _rows)
                return;
            var r1 = (int)Math.Min(_rows, r0 + _chunkRows);
            for (var b0 = 0; b0 < _batch; b0 += BatchTile)
            {
                var b1 = Math.Min(_batch, b0 + BatchTile);
                var acts = new ReadOnlySpan<byte>(_act + (long)b0 * _actRowBytes, (b1 - b0) * _actRowBytes);
                for (var r = (int)r0; r < r1; r++)
                {
                    var row = new ReadOnlySpan<byte>(_weights + r * _rowBytes, (int)_rowBytes);
                    if (b1 - b0 == 1)
                    {
                        _y[(long)b0 * _rows + r] = T.Dot(row, acts, _cols);
                        continue;
                    }
                    var results = new Span<float>(_y + (long)b0 * _rows + r, (b1 - b0 - 1) * _rows + 1);
                    T.DotBatch(row, acts, _actRowBytes, b1 - b0, _cols, results, _rows);
                }
            }
        }
    }
}
