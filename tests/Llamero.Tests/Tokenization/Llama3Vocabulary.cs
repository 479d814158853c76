using System.Text.Json;
using Llamero.Tests.Support;
using Llamero.Tokenization;

namespace Llamero.Tests.Tokenization;

/// <summary>
/// The Llama-3 byte-level BPE vocabulary built from <c>llama3-tokenizer/encoder.json</c> (piece → id, pieces in
/// the GPT-2 byte alphabet) and <c>vocab.bpe</c> (merges, one per line, in rank order). The special tokens
/// 128000+ are not in those files.
/// </summary>
internal static class Llama3Vocabulary
{
    private static readonly Lazy<Tokenizer> Shared = new(() => Build(withSpecials: false));

    private static readonly Lazy<Tokenizer> WithSpecials = new(() => Build(withSpecials: true));

    public static Tokenizer Tokenizer => Shared.Value;

    /// <summary>The same vocabulary with Llama-3's control tokens appended at 128000+ (BOS added, as llama.cpp
    /// does for the llama-bpe pre-tokenizer).</summary>
    public static Tokenizer TokenizerWithSpecials => WithSpecials.Value;

    private static readonly string[] SpecialTexts =
        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>"];

    private static Tokenizer Build(bool withSpecials)
    {
        var dir = TestPaths.Shared("llama3-tokenizer");
        var encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(Path.Combine(dir, "encoder.json")))!;
        var tokens = new string[encoder.Count];
        foreach (var (text, id) in encoder)
            tokens[id] = text;
        var merges = File.ReadAllLines(Path.Combine(dir, "vocab.bpe"))
            .Where(line => line.Length > 0 && !line.StartsWith("#version", StringComparison.Ordinal))
            .ToArray();
        if (withSpecials)
        {
            var types = Enumerable.Repeat(TokenType.Normal, tokens.Length).Concat(SpecialTexts.Select(_ => TokenType.Control)).ToArray();
            return new Tokenizer(new Vocabulary(TokenizerKind.BytePairEncoding, [.. tokens, .. SpecialTexts], types: types,
                merges: merges, preTokenizer: "llama-bpe")
            {
                BosId = tokens.Length,
                EosId = tokens.Length + 1,
            });
        }
        return new Tokenizer(new Vocabulary(TokenizerKind.BytePairEncoding, tokens, merges: merges, preTokenizer: "llama-bpe")
        {
            // Llama-3's <|begin_of_text|> and <|end_of_text|> are 128000/128001, outside these files.
            BosId = Vocabulary.NoToken,
            EosId = Vocabulary.NoToken,
            AddBos = false,
        });
    }
}
