namespace Llamero.Cli.Inference;

/// <summary>A one-line progress bar on standard error while a large model file is read in.</summary>
internal sealed class LoadProgressBar(TextWriter error, string name) : IProgress<double>
{
    private const int Width = 30;

    /// <summary>Files smaller than this load too fast for a bar to help.</summary>
    public const long Threshold = 64L << 20;

    private int _shown = -1;

    public void Report(double value)
    {
        var percent = (int)Math.Clamp(value * 100, 0, 100);
        if (percent == _shown)
            return;
        _shown = percent;
        var filled = percent * Width / 100;
        error.Write($"\rloading {name} [{new string('#', filled)}{new string(' ', Width - filled)}] {percent,3}%");
        if (percent == 100)
            error.WriteLine();
        error.Flush();
    }

    /// <summary>A bar for <paramref name="path"/> when it is large, else null.</summary>
    public static LoadProgressBar? For(string path, TextWriter error) =>
        File.Exists(path) && new FileInfo(path).Length >= Threshold ? new LoadProgressBar(error, Path.GetFileName(path)) : null;
}
