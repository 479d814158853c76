using Llamero.Gguf;

namespace Llamero.Tokenization;

/// <summary>Reads a <see cref="Vocabulary"/> from GGUF <c>tokenizer.*</c> metadata with llama.cpp's defaults.</summary>
internal static class GgufVocabulary
{
    public static Vocabulary Read(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var keys = GgufKeys.Tokenizer.Model;
        var model = file.Require<string>(keys);
        var kind = model switch
        {
            "llama" => TokenizerKind.SentencePiece,
            "gpt2" => TokenizerKind.BytePairEncoding,
            _ => throw new NotSupportedException(
                $"{file.Path}: tokenizer model '{model}' ({GgufKeys.Tokenizer.Model}) is not supported; supported: llama (SentencePiece), gpt2 (byte-level BPE)."),
        };

        var tokens = file.Require<string[]>(GgufKeys.Tokenizer.Tokens);
        var n = tokens.Length;
        if (n == 0)
            throw new InvalidDataException($"{file.Path}: {GgufKeys.Tokenizer.Tokens} is empty.");
        float[]? scores = null;
        if (file.ContainsKey(GgufKeys.Tokenizer.Scores))
        {
            scores = file.Require<float[]>(GgufKeys.Tokenizer.Scores);
            if (scores.Length < n)
                throw new InvalidDataException($"{file.Path}: {GgufKeys.Tokenizer.Scores} has {scores.Length} entries for {n} tokens.");
        }
        TokenType[]? types = null;
        if (file.ContainsKey(GgufKeys.Tokenizer.TokenType))
        {
            var raw = file.Require<int[]>(GgufKeys.Tokenizer.TokenType);
            if (raw.Length < n)
                throw new InvalidDataException($"{file.Path}: {GgufKeys.Tokenizer.TokenType} has {raw.Length} entries for {n} tokens.");
            types = raw.Select(t => t is >= 1 and <= 6 ? (TokenType)t : TokenType.Undefined).ToArray();
        }
        string[]? merges = null;
        if (kind == TokenizerKind.BytePairEncoding)
            merges = file.Require<string[]>(GgufKeys.Tokenizer.Merges);
        var pre = file.GetOrDefault<string?>(GgufKeys.Tokenizer.Pre, null);

        var defaults = new Vocabulary(kind, tokens, scores, types, merges, pre);
        return new Vocabulary(kind, tokens, scores, types, merges, pre)
        {
            BosId = Id(GgufKeys.Tokenizer.BosTokenId, defaults.BosId),
            EosId = Id(GgufKeys.Tokenizer.EosTokenId, defaults.EosId),
            UnkId = Id(GgufKeys.Tokenizer.UnknownTokenId, defaults.UnkId),
            SepId = Id(GgufKeys.Tokenizer.SeparatorTokenId, defaults.SepId),
            PadId = Id(GgufKeys.Tokenizer.PaddingTokenId, defaults.PadId),
            EotId = Id(GgufKeys.Tokenizer.EotTokenId, defaults.EotId),
            EomId = Id(GgufKeys.Tokenizer.EomTokenId, defaults.EomId),
            AddBos = file.GetOrDefault(GgufKeys.Tokenizer.AddBosToken, defaults.AddBos),
            AddEos = file.GetOrDefault(GgufKeys.Tokenizer.AddEosToken, defaults.AddEos),
            AddSpacePrefix = file.GetOrDefault(GgufKeys.Tokenizer.AddSpacePrefix, defaults.AddSpacePrefix),
            CleanSpaces = defaults.CleanSpaces,
            IgnoreMerges = defaults.IgnoreMerges,
        };

        // llama.cpp: a default outside the vocabulary is dropped; a stored id outside it (such as 0xFFFFFFFF for
        // "none") is ignored and the default stays.
        int Id(string key, int fallback)
        {
            if (fallback >= n)
                fallback = Vocabulary.NoToken;
            if (!file.ContainsKey(key))
                return fallback;
            var stored = file.Require<long>(key);
            return stored >= 0 && stored < n ? (int)stored : fallback;
        }
    }
}
