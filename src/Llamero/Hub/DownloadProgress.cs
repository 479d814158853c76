using System.Diagnostics;

namespace Llamero.Hub;

/// <summary>What a download is doing now.</summary>
public enum DownloadPhase
{
    /// <summary>Bytes are arriving.</summary>
    Downloading,
    /// <summary>The whole file is on disk and is being hashed.</summary>
    Verifying,
    /// <summary>The file checked out and is in place.</summary>
    Done,
    /// <summary>The file was already present and up to date.</summary>
    UpToDate,
}

/// <summary>A progress report for one file.</summary>
/// <param name="File">Repo path of the file.</param>
/// <param name="Phase">Downloading, verifying, done.</param>
/// <param name="Bytes">Bytes on disk (or hashed, while verifying).</param>
/// <param name="TotalBytes">Size of the file.</param>
/// <param name="BytesPerSecond">Recent transfer rate (sliding window of a few seconds).</param>
public sealed record DownloadProgress(string File, DownloadPhase Phase, long Bytes, long TotalBytes, double BytesPerSecond)
{
    /// <summary>Estimated time left at the recent rate; null while the rate is unknown.</summary>
    public TimeSpan? Eta => BytesPerSecond > 0 && TotalBytes >= Bytes
        ? TimeSpan.FromSeconds((TotalBytes - Bytes) / BytesPerSecond)
        : null;
}

/// <summary>Transfer rate over a sliding window of recent samples.</summary>
internal sealed class TransferRate(TimeSpan window)
{
    private readonly Queue<(long Ticks, long Bytes)> _samples = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>Records the running byte count and returns the rate over the window, in bytes per second.</summary>
    public double Sample(long bytes)
    {
        var now = _clock.ElapsedTicks;
        _samples.Enqueue((now, bytes));
        var horizon = now - (long)(window.TotalSeconds * Stopwatch.Frequency);
        while (_samples.Count > 2 && _samples.Peek().Ticks < horizon)
            _samples.Dequeue();
        var (firstTicks, firstBytes) = _samples.Peek();
        var seconds = (now - firstTicks) / (double)Stopwatch.Frequency;
        return seconds > 0 ? (bytes - firstBytes) / seconds : 0;
    }
}
