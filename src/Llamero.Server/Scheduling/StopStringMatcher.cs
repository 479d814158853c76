using System.Text;

namespace Llamero.Server.Scheduling;

/// <summary>
/// Finds stop strings in streamed text. Text that could still turn into a stop string is held back, so a client
/// never sees the beginning of a stop string that then completes.
/// </summary>
internal sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _pending = new();

    /// <summary>True once a stop string was seen; later text is dropped.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Adds text; returns what may be released now.</summary>
    public string Push(string text)
    {
        if (Stopped)
            return "";
        if (stops.Count == 0)
            return text;
        _pending.Append(text);
        var pending = _pending.ToString();
        var cut = -1;
        foreach (var stop in stops)
        {
            var at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
                cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return pending[..cut];
        }
        var keep = LongestSuffixThatStartsAStop(pending);
        _pending.Clear().Append(pending, pending.Length - keep, keep);
        return pending[..^keep];
    }

    /// <summary>Releases held-back text at the end of generation.</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending.ToString();
        _pending.Clear();
        return rest;
    }

    private int LongestSuffixThatStartsAStop(string text)
    {
        var best = 0;
        foreach (var stop in stops)
        {
            for (var len = Math.Min(stop.Length - 1, text.Length); len > best; len--)
            {
                if (text.AsSpan(text.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
