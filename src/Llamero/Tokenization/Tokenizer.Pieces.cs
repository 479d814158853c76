using System.Globalization;
using System.Text;

namespace Llamero.Tokenization;

public sealed partial class Tokenizer
{
    // The bytes a token stands for (llama.cpp's token_to_piece with special = true).
    private byte[] BuildPiece(int id)
    {
        var text = _vocab.Tokens[id];
        switch (_types[id])
        {
            case TokenType.Control or TokenType.Unknown or TokenType.UserDefined:
                return Encoding.UTF8.GetBytes(text);
            case TokenType.Byte:
                return TryParseByteToken(text, out var value) ? [value] : [];
            case TokenType.Normal when _vocab.Kind == TokenizerKind.SentencePiece:
                return Encoding.UTF8.GetBytes(text.Replace('▁', ' '));
            case TokenType.Normal:
                return DecodeByteAlphabet(text);
            default:
                return []; // unused and undefined tokens print nothing
        }
    }

    // "<0xNN>" → NN, as llama.cpp's token_to_byte reads it.
    private static bool TryParseByteToken(string text, out byte value)
    {
        value = 0;
        return text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
            && byte.TryParse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out value);
    }

    // Byte-level BPE pieces are written in the GPT-2 byte alphabet; a character outside it is kept as UTF-8.
    private static byte[] DecodeByteAlphabet(string text)
    {
        var bytes = new List<byte>(text.Length);
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsBmp && ByteAlphabet.TryDecode((char)rune.Value, out var b))
            {
                bytes.Add(b);
                continue;
            }
            var n = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < n; i++)
                bytes.Add(utf8[i]);
        }
        return bytes.ToArray();
    }

    // SentencePiece byte fallback: the <0xNN> token per byte, else a one-byte piece, else <unk> (or -1 if none).
    private int[] BuildByteTokens()
    {
        var map = new int[256];
        for (var b = 0; b < 256; b++)
        {
            if (_ids.TryGetValue($"<0x{b:X2}>", out var id) || _ids.TryGetValue(((char)b).ToString(), out id))
                map[b] = id;
            else
                map[b] = _vocab.UnkId;
        }
        return map;
    }

    // llama.cpp finds end-of-turn tokens by their text and treats them all as end of generation.
    private void FindEndOfGeneration()
    {
        if (EotId < 0)
        {
            foreach (var text in EndOfTurnTexts)
            {
                if (text != "<|eom_id|>" && _ids.TryGetValue(text, out var id))
                {
                    EotId = id;
                    break;
                }
            }
        }
        if (EomId < 0 && _ids.TryGetValue("<|eom_id|>", out var eom))
            EomId = eom;

        foreach (var text in EndOfTurnTexts)
        {
            if (_ids.TryGetValue(text, out var id))
            {
                _endOfGeneration.Add(id);
                if (_types[id] is not TokenType.Control)
                    _types[id] = TokenType.Control; // llama.cpp overrides such tokens to control
            }
        }
        foreach (var id in (ReadOnlySpan<int>)[_vocab.EosId, EotId, EomId])
        {
            if (id >= 0)
                _endOfGeneration.Add(id);
        }
    }

    // llama.cpp's clean_up_tokenization_spaces, pass for pass, in place; returns the new length.
    private static int CleanSpaces(Span<byte> text)
    {
        // " ?", " !", " .", " ,": drop the space
        var total1 = text.Length;
        var total = total1 > 0 ? 1 : 0;
        for (var i = 1; i < total1; i++)
        {
            var x = text[i];
            if (text[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',')
                total--;
            text[total++] = x;
        }

        // " ' ": a lone apostrophe between spaces loses both spaces
        var total2 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total2; i++)
        {
            var x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ')
            {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }

        // " 's", " 'm", " 're", " 've": drop the space
        var total3 = total;
        total = total > 0 ? 1 : 0;
        for (var i = 1; i < total3; i++)
        {
            var x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3)
            {
                var x1 = text[i + 1];
                if (x1 is (byte)'s' or (byte)'m')
                    total--;
                else if (i + 2 < total3 && ((x1 == 'r' && text[i + 2] == 'e') || (x1 == 'v' && text[i + 2] == 'e')))
                    total--;
            }
            text[total++] = x;
        }
        return total;
    }
}
