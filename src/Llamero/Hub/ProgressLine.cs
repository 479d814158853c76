using System.Globalization;
using System.Text;

namespace Llamero.Hub;

/// <summary>One line of text for a progress report: name, percentage, bar, bytes, rate and ETA.</summary>
public static class ProgressLine
{
    /// <summary>Formats <paramref name="p"/>, e.g. <c>model.gguf  42% [########............] 1.10/2.60 GiB  35.2 MiB/s  ETA 0:41</c>.</summary>
    public static string Format(DownloadProgress p, int barWidth = 24)
    {
        var fraction = p.TotalBytes > 0 ? Math.Clamp((double)p.Bytes / p.TotalBytes, 0, 1) : 1;
        var filled = (int)Math.Round(fraction * barWidth);
        var sb = new StringBuilder();
        sb.Append(Path.GetFileName(p.File)).Append("  ");
        sb.Append(CultureInfo.InvariantCulture, $"{fraction * 100,3:0}% [");
        sb.Append('#', filled).Append('.', barWidth - filled).Append("] ");
        sb.Append(Bytes(p.Bytes)).Append('/').Append(Bytes(p.TotalBytes));
        switch (p.Phase)
        {
            case DownloadPhase.Downloading:
            case DownloadPhase.Verifying:
                sb.Append("  ").Append(Bytes((long)p.BytesPerSecond)).Append("/s");
                sb.Append("  ETA ").Append(p.Eta is { } eta ? Duration(eta) : "--:--");
                if (p.Phase == DownloadPhase.Verifying)
                    sb.Append("  verifying sha256");
                break;
            case DownloadPhase.Done:
                sb.Append("  verified");
                break;
            case DownloadPhase.UpToDate:
                sb.Append("  already present");
                break;
        }
        return sb.ToString();
    }

    /// <summary>Bytes in binary units: 512 B, 1.5 KiB, 3.20 GiB.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0#} {units[unit]}");
    }

    private static string Duration(TimeSpan t) =>
        t.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}")
            : string.Create(CultureInfo.InvariantCulture, $"{t.Minutes}:{t.Seconds:00}");
}
