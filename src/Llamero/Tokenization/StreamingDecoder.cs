using System.Text;

namespace Llamero.Tokenization;

/// <summary>
/// Decodes generated token ids one at a time and returns only complete characters: the bytes of a character
/// split across tokens (byte-fallback pieces, partial byte-level BPE pieces) wait until the character is whole.
/// Not thread-safe; create one per stream with <see cref="Tokenizer.CreateStreamingDecoder"/>.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private bool _stripLeadingSpace;
    private char[] _chars = new char[64];

    internal StreamingDecoder(Tokenizer tokenizer, bool stripLeadingSpace, bool renderSpecial)
    {
        _tokenizer = tokenizer;
        _stripLeadingSpace = stripLeadingSpace;
        RenderSpecial = renderSpecial;
    }

    /// <summary>Whether control tokens are written as their text (otherwise they are invisible).</summary>
    public bool RenderSpecial { get; }

    /// <summary>Adds one token; returns the characters it completes (possibly empty).</summary>
    public string Append(int id)
    {
        var piece = _tokenizer.Piece(id, RenderSpecial);
        if (piece.IsEmpty)
            return "";
        if (_stripLeadingSpace && piece[0] == (byte)' ')
            piece = piece[1..];
        _stripLeadingSpace = false;
        return Convert(piece, flush: false);
    }

    /// <summary>Ends the stream: bytes of an unfinished character come out as U+FFFD.</summary>
    public string Flush() => Convert([], flush: true);

    private string Convert(ReadOnlySpan<byte> bytes, bool flush)
    {
        var max = _utf8.GetCharCount(bytes, flush: false) + 4;
        if (_chars.Length < max)
            _chars = new char[Math.Max(max, _chars.Length * 2)];
        // The decoder keeps an unfinished sequence (and the high half of a surrogate pair) for the next call.
        var n = _utf8.GetChars(bytes, _chars, flush);
        return n == 0 ? "" : new string(_chars, 0, n);
    }
}
