namespace Llamero.Sampling.Grammars;

/// <summary>
/// Incremental UTF-8 decoding across token boundaries (a byte-fallback token may hold one byte of a character):
/// the bits read so far of an unfinished character, how many continuation bytes it still needs, and its length.
/// Overlong forms, surrogates and code points beyond U+10FFFF are invalid as soon as their bytes show it: a
/// text decoder turns them into U+FFFD, so they must never count as the character they spell.
/// </summary>
internal readonly record struct Utf8Partial(int Value, int Remaining, int Length)
{
    /// <summary>No character in progress.</summary>
    public static Utf8Partial None => default;

    public bool IsEmpty => Remaining == 0;

    /// <summary>
    /// Reads one byte. Returns false on invalid UTF-8; otherwise <paramref name="codePoint"/> is the finished
    /// character, or -1 while it is still incomplete (<paramref name="next"/> holds the progress).
    /// </summary>
    public bool Step(byte b, out Utf8Partial next, out int codePoint)
    {
        // Read the fields first: callers may pass this very variable as `next`.
        var value = Value;
        var remaining = Remaining;
        var length = Length;
        codePoint = -1;
        next = default;
        if (remaining == 0)
        {
            if (b < 0x80)
            {
                codePoint = b;
                return true;
            }
            if (b is >= 0xC2 and <= 0xDF)
                next = new Utf8Partial(b & 0x1F, 1, 2);
            else if ((b & 0xF0) == 0xE0)
                next = new Utf8Partial(b & 0x0F, 2, 3);
            else if (b is >= 0xF0 and <= 0xF4)
                next = new Utf8Partial(b & 0x07, 3, 4);
            else
                return false;
            return true;
        }
        if ((b & 0xC0) != 0x80)
            return false;
        value = (value << 6) | (b & 0x3F);
        if (remaining > 1)
        {
            next = new Utf8Partial(value, remaining - 1, length);
            var (low, high) = next.Span();
            return low <= high && !(low >= 0xD800 && high <= 0xDFFF);
        }
        codePoint = value;
        return value >= Minimum(length) && value <= 0x10FFFF && value is < 0xD800 or > 0xDFFF;
    }

    /// <summary>The valid code points the unfinished character can still become: [Low, High] (empty when Low &gt; High).</summary>
    public (int Low, int High) Span()
    {
        var shift = 6 * Remaining;
        var low = Value << shift;
        return (Math.Max(low, Minimum(Length)), Math.Min(low | ((1 << shift) - 1), 0x10FFFF));
    }

    // The smallest code point that needs `length` bytes (anything below is an overlong form).
    private static int Minimum(int length) => length switch { 2 => 0x80, 3 => 0x800, 4 => 0x10000, _ => 0 };
}
