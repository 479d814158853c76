namespace Llamero.Tokenization;

/// <summary>
/// A tokenizer vocabulary as plain arrays: the pieces, their scores and types, the BPE merges, the special
/// token ids and the flags that say how text is encoded. Defaults follow llama.cpp's for the
/// <see cref="TokenizerKind"/>; set the init properties to override them (as the GGUF keys do).
/// </summary>
public sealed class Vocabulary
{
    /// <summary>Id meaning "no such token" (llama.cpp's LLAMA_TOKEN_NULL).</summary>
    public const int NoToken = -1;

    /// <summary>Creates a vocabulary with llama.cpp's defaults for <paramref name="kind"/>.</summary>
    /// <param name="kind">The tokenization algorithm.</param>
    /// <param name="tokens">Piece text of every token id.</param>
    /// <param name="scores">Score per token (SentencePiece merge priority); zero when absent.</param>
    /// <param name="types">Type per token; <see cref="TokenType.Normal"/> when absent.</param>
    /// <param name="merges">BPE merges in rank order, "left right" (byte-level BPE only).</param>
    /// <param name="preTokenizer">The pre-tokenizer name (<c>tokenizer.ggml.pre</c>) for byte-level BPE.</param>
    public Vocabulary(
        TokenizerKind kind,
        IReadOnlyList<string> tokens,
        IReadOnlyList<float>? scores = null,
        IReadOnlyList<TokenType>? types = null,
        IReadOnlyList<string>? merges = null,
        string? preTokenizer = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
            throw new ArgumentException("The vocabulary has no tokens.", nameof(tokens));
        if (scores is not null && scores.Count < tokens.Count)
            throw new ArgumentException($"{scores.Count} scores for {tokens.Count} tokens.", nameof(scores));
        if (types is not null && types.Count < tokens.Count)
            throw new ArgumentException($"{types.Count} token types for {tokens.Count} tokens.", nameof(types));

        Kind = kind;
        Tokens = tokens;
        Scores = scores ?? new float[tokens.Count];
        Types = types ?? Enumerable.Repeat(TokenType.Normal, tokens.Count).ToArray();
        Merges = merges ?? [];
        PreTokenizer = preTokenizer;

        if (kind == TokenizerKind.SentencePiece)
        {
            // llama.cpp: "llama" vocabularies default to <unk>=0, <s>=1, </s>=2, BOS added, dummy prefix on.
            UnkId = 0;
            BosId = 1;
            EosId = 2;
            AddBos = true;
            AddSpacePrefix = true;
        }
        else
        {
            if (merges is null)
                throw new ArgumentException("A byte-level BPE vocabulary needs its merges.", nameof(merges));
            // llama.cpp: "gpt2" vocabularies default to id 11 for BOS and EOS, spaces cleaned on decode;
            // the Llama-3 pre-tokenizer family also adds BOS and looks whole words up before merging.
            BosId = 11;
            EosId = 11;
            CleanSpaces = true;
            if (PreTokenizers.IsLlama3(preTokenizer))
            {
                AddBos = true;
                IgnoreMerges = true;
            }
        }
    }

    /// <summary>The tokenization algorithm.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>Piece text per token id (SentencePiece pieces use ▁ for a space; byte-level BPE the GPT-2 alphabet).</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>Score per token id.</summary>
    public IReadOnlyList<float> Scores { get; }

    /// <summary>Type per token id.</summary>
    public IReadOnlyList<TokenType> Types { get; }

    /// <summary>BPE merges in rank order ("left right"); empty for SentencePiece.</summary>
    public IReadOnlyList<string> Merges { get; }

    /// <summary>Pre-tokenizer name (<c>tokenizer.ggml.pre</c>), or null.</summary>
    public string? PreTokenizer { get; }

    /// <summary>Beginning-of-sequence id, or <see cref="NoToken"/>.</summary>
    public int BosId { get; init; } = NoToken;

    /// <summary>End-of-sequence id, or <see cref="NoToken"/>.</summary>
    public int EosId { get; init; } = NoToken;

    /// <summary>Unknown-token id, or <see cref="NoToken"/>.</summary>
    public int UnkId { get; init; } = NoToken;

    /// <summary>Padding id, or <see cref="NoToken"/>.</summary>
    public int PadId { get; init; } = NoToken;

    /// <summary>Separator id, or <see cref="NoToken"/>.</summary>
    public int SepId { get; init; } = NoToken;

    /// <summary>End-of-turn id, or <see cref="NoToken"/> (then found by text, as llama.cpp does).</summary>
    public int EotId { get; init; } = NoToken;

    /// <summary>End-of-message id, or <see cref="NoToken"/> (then found by text).</summary>
    public int EomId { get; init; } = NoToken;

    /// <summary>Whether encoding with special tokens starts with BOS.</summary>
    public bool AddBos { get; init; }

    /// <summary>Whether encoding with special tokens ends with EOS.</summary>
    public bool AddEos { get; init; }

    /// <summary>SentencePiece's dummy prefix: a space before text that starts the input or follows a special token.</summary>
    public bool AddSpacePrefix { get; init; }

    /// <summary>Whether decoding removes spaces before punctuation and contractions (clean_up_tokenization_spaces).</summary>
    public bool CleanSpaces { get; init; }

    /// <summary>Byte-level BPE: a pre-token that is itself a vocabulary entry is used whole, without merging.</summary>
    public bool IgnoreMerges { get; init; }

    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Count;
}
