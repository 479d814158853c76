namespace Llamero.Tokenization;

/// <summary>
/// The kind of a vocabulary entry, with the values GGUF stores in <c>tokenizer.ggml.token_type</c>
/// (SentencePiece's piece types).
/// </summary>
public enum TokenType
{
    /// <summary>Unknown type value; the token is never produced and decodes to nothing.</summary>
    Undefined = 0,
    /// <summary>Ordinary text piece.</summary>
    Normal = 1,
    /// <summary>The unknown-token placeholder (<c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,
    /// <summary>Control token such as BOS/EOS: only parsed from text when asked, invisible when decoding.</summary>
    Control = 3,
    /// <summary>User-defined piece: always matched verbatim in text before the model's algorithm runs.</summary>
    UserDefined = 4,
    /// <summary>Reserved, unused slot.</summary>
    Unused = 5,
    /// <summary>Byte-fallback piece <c>&lt;0xNN&gt;</c> that stands for one raw byte.</summary>
    Byte = 6,
}

/// <summary>Which tokenization algorithm a vocabulary uses (<c>tokenizer.ggml.model</c>).</summary>
public enum TokenizerKind
{
    /// <summary>SentencePiece BPE (<c>llama</c>): merges by piece score, byte fallback, dummy-prefix space.</summary>
    SentencePiece,
    /// <summary>Byte-level BPE (<c>gpt2</c>): pre-tokenizer regex, GPT-2 byte alphabet, ranked merges.</summary>
    BytePairEncoding,
}
