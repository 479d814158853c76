using System.Runtime.InteropServices;
using Llamero.Gguf;
using Llamero.Quants.Interleaved;

namespace Llamero.Kernels;

/// <summary>
/// Compiles the multiplication path of each weight kind a model multiplies (format and layout) before its first
/// evaluation needs it, by multiplying a tiny zero matrix of that kind once for one activation row (the Gemv kernels)
/// and once for eight (the Gemm kernels). The JIT compiles a method once per process, so a load that runs this on a core
/// its threads leave idle saves the first token the compile time of its largest kernels (tens of milliseconds each,
/// 0.1 s of CPU for a Q2_K mix's four formats, on the thread that would otherwise wait for them).
/// </summary>
internal static unsafe class KernelWarmup
{
    private const int Cols = 256;
    private const int Batch = 8;

    /// <summary>Whether a load may warm the kernels on a thread of its own, while <see cref="MatMul.Threads"/> leave a
    /// core idle (<see cref="IdleCores"/>). Tests turn it off to compare.</summary>
    internal static bool Enabled { get; set; } = true;

    /// <summary>
    /// When <see cref="Enabled"/> and a core is idle, runs <see cref="Run"/> for the <paramref name="kinds"/> on a
    /// background thread and returns it (else null, without asking for the kinds). It multiplies nothing of the model's.
    /// </summary>
    public static Thread? StartIfIdleCore(Func<IReadOnlyList<(GgmlType Type, WeightLayout? Layout)>> kinds)
    {
        if (!Enabled || !IdleCores.OneBesideTheThreads())
            return null;
        var thread = new Thread(() =>
        {
            try
            {
                IdleCores.RunAsHelper(() => Run(kinds()));
            }
            catch (Exception)
            {
                // Only time is at stake: whatever failed here fails again, where it is reported, when the model needs it.
            }
        })
        {
            IsBackground = true,
            Name = "Llamero kernel warm-up",
        };
        thread.Start();
        return thread;
    }

    /// <summary>Runs the multiplication path of every kind in <paramref name="kinds"/> once, on the calling thread.</summary>
    public static void Run(IEnumerable<(GgmlType Type, WeightLayout? Layout)> kinds)
    {
        foreach (var (type, layout) in kinds.Distinct())
            Warm(type, layout);
    }

    private static void Warm(GgmlType type, WeightLayout? layout)
    {
        var rows = layout?.RowGroup ?? 8;
        var bytes = layout is null ? rows * GgmlTypes.Get(type).RowBytes(Cols) : layout.GroupBytes(Cols) * (rows / layout.RowGroup);
        // Zero bytes are valid weights in every format (zero scales); the products are zero.
        var weights = new byte[bytes + 64];
        var x = new float[Batch * Cols];
        var y = new float[Batch * rows];
        var handle = GCHandle.Alloc(weights, GCHandleType.Pinned);
        try
        {
            var data = (handle.AddrOfPinnedObject() + 63) & ~(nint)63;
            var matrix = new WeightMatrix(type, data, rows, Cols, layout);
            MatMul.Multiply(in matrix, x.AsSpan(0, Cols), y.AsSpan(0, rows), 1);
            MatMul.Multiply(in matrix, x, y, Batch);
        }
        finally
        {
            handle.Free();
        }
    }
}
