using Llamero.Gguf;

namespace Llamero.Models;

/// <summary>
/// The fraction of a model's tensor bytes made ready while it loads (0..1, never decreasing, one report at a time):
/// a repacked matrix counts when its copy is complete (reported from the repacking workers), every other tensor when
/// <see cref="ReadRest"/> has touched its pages so the first token does not wait on the disk.
/// </summary>
internal sealed class LoadProgress(GgufFile file, IProgress<double> progress)
{
    private const int Page = 4096;

    private readonly Lock _lock = new();
    private readonly HashSet<string> _done = [];
    private readonly long _total = Math.Max(1, file.Tensors.Sum(t => t.ByteSize));
    private long _bytes;

    /// <summary>Counts <paramref name="tensor"/> as ready (thread-safe; a tensor counts once).</summary>
    public void Done(GgufTensorInfo tensor)
    {
        lock (_lock)
        {
            if (!_done.Add(tensor.Name))
                return;
            _bytes += tensor.ByteSize;
            progress.Report((double)_bytes / _total);
        }
    }

    /// <summary>Reads one byte per page of every tensor not yet counted, so the OS reads the file in now, and counts it.</summary>
    public unsafe void ReadRest()
    {
        var sink = 0;
        foreach (var tensor in file.Tensors)
        {
            lock (_lock)
            {
                if (_done.Contains(tensor.Name))
                    continue;
            }
            var p = (byte*)file.GetTensorPointer(tensor);
            for (long i = 0; i < tensor.ByteSize; i += Page)
                sink += p[i];
            Done(tensor);
        }
        GC.KeepAlive(sink);
        if (file.Tensors.Count == 0)
            progress.Report(1);
    }
}
