using System.Text;

namespace Llamero.Tokenization;

/// <summary>
/// Turns text into token ids and back, exactly as llama.cpp does for the same vocabulary: SentencePiece BPE
/// (<c>llama</c>) or byte-level BPE (<c>gpt2</c> with the Llama-3 pre-tokenizer). Immutable and thread-safe.
/// </summary>
public sealed partial class Tokenizer
{
    private static readonly string[] EndOfTurnTexts =
        ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "<|eom_id|>"];

    private readonly Vocabulary _vocab;
    private readonly Dictionary<string, int> _ids;
    private readonly byte[][] _pieces;
    private readonly TokenType[] _types;
    private readonly SpecialTokenSplitter _splitter;
    private readonly SentencePieceEncoder? _spm;
    private readonly BytePairEncoder? _bpe;
    private readonly HashSet<int> _endOfGeneration = [];

    /// <summary>Builds a tokenizer over <paramref name="vocabulary"/>.</summary>
    /// <exception cref="ArgumentException">Duplicate pieces or special ids out of range.</exception>
    /// <exception cref="NotSupportedException">A byte-level BPE pre-tokenizer other than Llama-3's.</exception>
    public Tokenizer(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vocab = vocabulary;
        var n = vocabulary.Count;
        _types = vocabulary.Types.Take(n).ToArray();
        _ids = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var id = 0; id < n; id++)
        {
            // llama.cpp renames empty pieces so that they cannot match anything.
            var text = vocabulary.Tokens[id] is { Length: > 0 } t ? t : $"[EMPTY_{id}]";
            if (!_ids.TryAdd(text, id))
                throw new ArgumentException($"Duplicate token in vocabulary: '{text}' has ids {_ids[text]} and {id}.", nameof(vocabulary));
        }

        CheckId(vocabulary.BosId, nameof(vocabulary.BosId));
        CheckId(vocabulary.EosId, nameof(vocabulary.EosId));
        CheckId(vocabulary.UnkId, nameof(vocabulary.UnkId));
        CheckId(vocabulary.PadId, nameof(vocabulary.PadId));
        CheckId(vocabulary.SepId, nameof(vocabulary.SepId));
        CheckId(vocabulary.EotId, nameof(vocabulary.EotId));
        CheckId(vocabulary.EomId, nameof(vocabulary.EomId));
        if (vocabulary.AddBos && vocabulary.BosId < 0)
            throw new ArgumentException("The vocabulary adds BOS but has no BOS token.", nameof(vocabulary));
        if (vocabulary.AddEos && vocabulary.EosId < 0)
            throw new ArgumentException("The vocabulary adds EOS but has no EOS token.", nameof(vocabulary));

        EotId = vocabulary.EotId;
        EomId = vocabulary.EomId;
        FindEndOfGeneration();

        _splitter = new SpecialTokenSplitter(vocabulary.Tokens, _types);
        _pieces = new byte[n][];
        for (var id = 0; id < n; id++)
            _pieces[id] = BuildPiece(id);

        if (vocabulary.Kind == TokenizerKind.SentencePiece)
        {
            _spm = new SentencePieceEncoder(_ids, vocabulary.Scores, BuildByteTokens());
        }
        else
        {
            if (!PreTokenizers.IsLlama3(vocabulary.PreTokenizer))
                throw new NotSupportedException(
                    $"Unsupported pre-tokenizer '{vocabulary.PreTokenizer ?? "(none)"}' for byte-level BPE; supported: "
                    + string.Join(", ", PreTokenizers.Supported) + ".");
            _bpe = new BytePairEncoder(_ids, vocabulary.Merges, vocabulary.IgnoreMerges);
        }

        void CheckId(int id, string name)
        {
            if (id != Vocabulary.NoToken && (id < 0 || id >= n))
                throw new ArgumentException($"{name} {id} is outside the vocabulary (0..{n - 1}).", nameof(vocabulary));
        }
    }

    /// <summary>The vocabulary this tokenizer encodes with.</summary>
    public Vocabulary Vocabulary => _vocab;

    /// <summary>Number of tokens.</summary>
    public int VocabSize => _vocab.Count;

    /// <summary>Beginning-of-sequence id, or -1.</summary>
    public int BosId => _vocab.BosId;

    /// <summary>End-of-sequence id, or -1.</summary>
    public int EosId => _vocab.EosId;

    /// <summary>End-of-turn id (given, or found by its text as llama.cpp does), or -1.</summary>
    public int EotId { get; private set; }

    /// <summary>End-of-message id (given, or found by its text), or -1.</summary>
    public int EomId { get; private set; }

    /// <summary>Whether <see cref="Encode"/> with <c>addSpecial</c> starts with BOS.</summary>
    public bool AddBos => _vocab.AddBos;

    /// <summary>Whether <see cref="Encode"/> with <c>addSpecial</c> ends with EOS.</summary>
    public bool AddEos => _vocab.AddEos;

    /// <summary>Every id that ends generation (EOS, EOT, EOM and the end-of-turn tokens llama.cpp knows by text).</summary>
    public IReadOnlySet<int> EndOfGenerationIds => _endOfGeneration;

    /// <summary>
    /// Encodes <paramref name="text"/> as llama.cpp's <c>llama_tokenize</c> does.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecial">Add BOS/EOS as the vocabulary asks (<see cref="AddBos"/>, <see cref="AddEos"/>).</param>
    /// <param name="parseSpecial">Turn the text of control tokens (such as <c>&lt;s&gt;</c>) into those tokens;
    /// otherwise it is encoded as ordinary text.</param>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = ReplaceLoneSurrogates(text);
        var output = new List<int>(text.Length / 3 + 4);
        if (addSpecial && _vocab.AddBos)
            output.Add(_vocab.BosId);

        var previousWasSpecial = true; // SentencePiece: the dummy prefix goes before the first text
        foreach (var fragment in _splitter.Split(text, parseSpecial))
        {
            if (!fragment.IsText)
            {
                output.Add(fragment.Token);
                previousWasSpecial = true;
                continue;
            }
            var raw = text.AsSpan(fragment.Start, fragment.Length);
            if (_spm is not null)
            {
                _spm.Encode(EscapeWhitespace(raw, _vocab.AddSpacePrefix && previousWasSpecial), output);
                previousWasSpecial = false;
            }
            else
            {
                _bpe!.Encode(raw.ToString(), output);
            }
        }

        if (addSpecial && _vocab.AddEos)
            output.Add(_vocab.EosId);
        return output.ToArray();
    }

    /// <summary>
    /// Decodes <paramref name="ids"/> to text: byte-fallback pieces are reassembled into characters, control
    /// tokens are invisible, the dummy-prefix space of the first piece (after a leading BOS) is removed, and
    /// vocabularies that ask for it get llama.cpp's clean-up of spaces before punctuation.
    /// Bytes that do not form valid UTF-8 become U+FFFD.
    /// </summary>
    public string Decode(IEnumerable<int> ids) => Decode(ids, renderSpecial: false);

    /// <summary>As <see cref="Decode(IEnumerable{int})"/>; <paramref name="renderSpecial"/> writes control tokens as their text.</summary>
    public string Decode(IEnumerable<int> ids, bool renderSpecial)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        var stripSpace = _vocab.AddSpacePrefix;
        foreach (var id in ids)
        {
            var piece = Piece(id, renderSpecial);
            if (piece.Length == 0)
                continue;
            if (stripSpace && piece[0] == (byte)' ')
                piece = piece[1..];
            stripSpace = false;
            bytes.AddRange(piece);
        }
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        if (_vocab.CleanSpaces)
            span = span[..CleanSpaces(span)];
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The vocabulary text of <paramref name="id"/> (SentencePiece ▁ or GPT-2 alphabet as stored).</summary>
    public string TokenText(int id)
    {
        CheckToken(id);
        return _vocab.Tokens[id];
    }

    /// <summary>The type of <paramref name="id"/>.</summary>
    public TokenType TokenTypeOf(int id)
    {
        CheckToken(id);
        return _types[id];
    }

    /// <summary>
    /// The bytes <paramref name="id"/> stands for in output text (llama.cpp's token_to_piece): a byte token is
    /// one byte, which may be part of a multi-byte character. Control tokens are empty unless
    /// <paramref name="renderSpecial"/>.
    /// </summary>
    public ReadOnlySpan<byte> Piece(int id, bool renderSpecial = false)
    {
        CheckToken(id);
        if (!renderSpecial && _types[id] is TokenType.Control or TokenType.Unknown)
            return [];
        return _pieces[id];
    }

    /// <summary>Whether <paramref name="id"/> ends generation (EOS, end of turn, ...).</summary>
    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    /// <summary>Looks up the id of a piece by its exact vocabulary text.</summary>
    public bool TryGetId(string tokenText, out int id) => _ids.TryGetValue(tokenText, out id);

    /// <summary>
    /// A decoder for a stream of generated ids that returns only whole characters.
    /// </summary>
    /// <param name="stripLeadingSpace">Remove the dummy-prefix space of the first piece, as <see cref="Decode(IEnumerable{int})"/>
    /// does for a whole sequence; leave false when the ids continue a prompt.</param>
    /// <param name="renderSpecial">Write control tokens as their text instead of nothing.</param>
    public StreamingDecoder CreateStreamingDecoder(bool stripLeadingSpace = false, bool renderSpecial = false) =>
        new(this, stripLeadingSpace && _vocab.AddSpacePrefix, renderSpecial);

    private void CheckToken(int id)
    {
        if ((uint)id >= (uint)_vocab.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary (0..{_vocab.Count - 1}).");
    }

    // llama.cpp receives UTF-8, where a lone surrogate can only arrive as U+FFFD: make the string say so.
    private static string ReplaceLoneSurrogates(string text)
    {
        char[]? fixedText = null;
        for (var i = 0; i < text.Length; i++)
        {
            if (!char.IsSurrogate(text[i]))
                continue;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
                continue;
            }
            fixedText ??= text.ToCharArray();
            fixedText[i] = '\uFFFD';
        }
        return fixedText is null ? text : new string(fixedText);
    }

    private static string EscapeWhitespace(ReadOnlySpan<char> raw, bool addPrefix)
    {
        var prefix = addPrefix ? 1 : 0;
        var chars = new char[raw.Length + prefix];
        if (addPrefix)
            chars[0] = '▁';
        for (var i = 0; i < raw.Length; i++)
            chars[i + prefix] = raw[i] == ' ' ? '▁' : raw[i];
        return new string(chars);
    }
}
