namespace Llamero.Hub;

/// <summary>
/// Draws download progress on a text writer (stderr in the tools): one line per file, redrawn in place with a
/// carriage return at most five times a second, ended when the file is verified or found already present.
/// </summary>
public sealed class DownloadProgressPrinter(TextWriter writer) : IProgress<DownloadProgress>
{
    private readonly Lock _lock = new();
    private string? _file;
    private long _lastTicks;

    /// <inheritdoc />
    public void Report(DownloadProgress value)
    {
        lock (_lock)
        {
            var final = value.Phase is DownloadPhase.Done or DownloadPhase.UpToDate;
            var now = Environment.TickCount64;
            if (!final && value.File == _file && now - _lastTicks < 200)
                return;
            if (_file is not null && value.File != _file)
                writer.WriteLine();
            _file = value.File;
            _lastTicks = now;
            writer.Write("\r" + ProgressLine.Format(value).PadRight(100));
            if (final)
            {
                writer.WriteLine();
                _file = null;
            }
            writer.Flush();
        }
    }

    /// <summary>Ends a line left open by an interrupted download.</summary>
    public void Finish()
    {
        lock (_lock)
        {
            if (_file is not null)
                writer.WriteLine();
            _file = null;
        }
    }
}
