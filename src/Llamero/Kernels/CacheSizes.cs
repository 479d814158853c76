using System.Globalization;

namespace Llamero.Kernels;

/// <summary>The CPU's cache sizes, where the operating system tells them (Linux sysfs).</summary>
internal static class CacheSizes
{
    private const string Cpu0Caches = "/sys/devices/system/cpu/cpu0/cache";

    /// <summary>Bytes of the level-2 data (or unified) cache of CPU 0, or <paramref name="fallback"/> when unknown.</summary>
    public static int L2BytesOrDefault(int fallback)
    {
        try
        {
            if (!Directory.Exists(Cpu0Caches))
                return fallback;
            foreach (var index in Directory.EnumerateDirectories(Cpu0Caches, "index*"))
            {
                if (File.ReadAllText(Path.Combine(index, "level")).Trim() != "2"
                    || File.ReadAllText(Path.Combine(index, "type")).Trim() == "Instruction")
                    continue;
                return ParseSize(File.ReadAllText(Path.Combine(index, "size")).Trim()) ?? fallback;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return fallback;
    }

    /// <summary>"1024K", "2M" or plain bytes, as sysfs writes a cache size; null when unreadable.</summary>
    internal static int? ParseSize(string text)
    {
        var unit = text.Length > 0 ? char.ToUpperInvariant(text[^1]) : ' ';
        var scale = unit switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L };
        var digits = scale == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0 && value * scale <= int.MaxValue
            ? (int)(value * scale)
            : null;
    }
}
