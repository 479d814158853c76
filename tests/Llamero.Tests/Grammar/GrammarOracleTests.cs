using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using Llamero.Sampling;
using Llamero.Sampling.Grammars;
using Llamero.Tokenization;

namespace Llamero.Tests.Grammar;

/// <summary>
/// llama.cpp's own grammar sampler (LLamaSharp 0.30.0, the Llama-2 vocabulary loaded vocab-only) as the oracle:
/// for the same GBNF and the same accepted tokens, both must mask exactly the same tokens of the whole vocabulary,
/// except where llama.cpp is knowingly looser: it judges control tokens by their special text (<c>&lt;s&gt;</c> may
/// appear inside a JSON string although the output shows nothing there), and it takes the bytes F5..FF, which never
/// occur in UTF-8, for the lead byte of a four-byte character. Llamero refuses both.
/// </summary>
public class GrammarOracleTests
{
    private static readonly Lazy<LLamaWeights> s_native = new(() =>
    {
        NativeApi.llama_empty_call(); // installs LLamaSharp's native-library resolver
        NativeLogConfig.llama_log_set((_, _) => { });
        return LLamaWeights.LoadFromFile(new ModelParams(Llama2Vocab.Path) { VocabOnly = true });
    });

    public static TheoryData<string, string> Cases => new()
    {
        { BuiltInGrammars.JsonObject, "{\"name\": \"Zoë ☃\", \"n\": [1, -2.5e3, true, null], \"o\": {\"k\": \"\\u00e9\\n\"}}" },
        { JsonSchemaGrammar.ToGbnf("""{"type":"object","properties":{"a":{"enum":["x","yz"]},"b":{"type":"array","items":{"type":"integer"},"maxItems":3}},"required":["a"]}"""), "{\"a\": \"yz\", \"b\": [1, 22]}" },
        { "root ::= ([α-ω] | [^a-z\\u0080-\\uFFFF] | \"日本\")+ \".\"", "λ日本A7ω." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Same_mask_as_llama_cpp_along_a_document(string gbnf, string document)
    {
        var tokenizer = Llama2Vocab.Tokenizer;
        var weights = s_native.Value;
        var ours = new GrammarSampler(Llamero.Sampling.Grammars.Grammar.Parse(gbnf), tokenizer);
        using var native = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        native.AddGrammar(weights.Vocab, gbnf, "root");
        var n = tokenizer.VocabSize;
        Assert.Equal(n, weights.Vocab.Count);

        // Walk the document with byte tokens and whole-word tokens alike: at each step take the longest allowed token
        // that spells the next text, as a model that writes this document would.
        var remaining = Encoding.UTF8.GetBytes(document);
        var steps = 0;
        while (true)
        {
            var expected = NativeAllowed(native, n).Where(id => !LlamaCppLooser(tokenizer, id)).ToArray();
            var candidates = new TokenCandidates();
            candidates.Load(new float[n]);
            ours.Apply(candidates);
            var actual = candidates.Items.ToArray().Select(c => c.Id).Order().ToArray();
            Assert.True(expected.SequenceEqual(actual),
                $"step {steps}: llama.cpp allows {expected.Length} tokens, Llamero {actual.Length}; only llama.cpp: " +
                string.Join(" ", expected.Except(actual).Take(10).Select(tokenizer.TokenText)) + "; only Llamero: " +
                string.Join(" ", actual.Except(expected).Take(10).Select(tokenizer.TokenText)));
            if (remaining.Length == 0)
            {
                Assert.Contains(tokenizer.EosId, actual);
                break;
            }
            var next = actual.Where(id => id != tokenizer.EosId && remaining.AsSpan().StartsWith(tokenizer.Piece(id)))
                .MaxBy(id => tokenizer.Piece(id).Length);
            ours.Accept(next);
            native.Accept(next);
            remaining = remaining[tokenizer.Piece(next).Length..];
            steps++;
        }
        Assert.True(steps > 5);
    }

    private static bool LlamaCppLooser(Tokenizer tokenizer, int id) =>
        tokenizer.TokenTypeOf(id) is TokenType.Control or TokenType.Unknown && !tokenizer.IsEndOfGeneration(id)
        || tokenizer.Piece(id) is [>= 0xF5];

    private static int[] NativeAllowed(SafeLLamaSamplerChainHandle native, int n)
    {
        var data = new LLamaTokenData[n];
        for (var i = 0; i < n; i++)
            data[i] = new LLamaTokenData(i, 0f, 0f);
        var array = new LLamaTokenDataArray(data);
        using (LLamaTokenDataArrayNative.Create(array, out var nativeArray))
            native.Apply(ref nativeArray);
        return [.. data.Where(d => !float.IsNegativeInfinity(d.Logit)).Select(d => (int)d.ID).Order()];
    }
}
