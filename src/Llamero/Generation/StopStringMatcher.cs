namespace Llamero.Generation;

/// <summary>
/// Watches streamed text for stop strings. Text that could be the start of a stop string is held back until the
/// next piece decides it, so a matched stop string never reaches the output.
/// </summary>
internal sealed class StopStringMatcher(IReadOnlyList<string> stopStrings)
{
    private string _held = "";

    /// <summary>True once a stop string appeared.</summary>
    public bool Matched { get; private set; }

    /// <summary>Adds a piece; returns the text that can be emitted now.</summary>
    public string Push(string piece)
    {
        if (stopStrings.Count == 0)
            return piece;
        var text = _held + piece;
        var first = -1;
        foreach (var stop in stopStrings)
        {
            var at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
                first = at;
        }
        if (first >= 0)
        {
            Matched = true;
            _held = "";
            return text[..first];
        }

        var hold = LongestSuffixStartingAStop(text);
        _held = text[^hold..];
        return text[..^hold];
    }

    /// <summary>Releases the held-back text (the stream ended without a match).</summary>
    public string Flush()
    {
        var held = _held;
        _held = "";
        return held;
    }

    private int LongestSuffixStartingAStop(string text)
    {
        var longest = 0;
        foreach (var stop in stopStrings)
        {
            for (var length = Math.Min(text.Length, stop.Length - 1); length > longest; length--)
            {
                if (stop.AsSpan(0, length).SequenceEqual(text.AsSpan(text.Length - length)))
                {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
