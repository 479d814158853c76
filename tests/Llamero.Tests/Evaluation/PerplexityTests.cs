using Llamero.Evaluation;
using Llamero.Tests.Support;

namespace Llamero.Tests.Evaluation;

/// <summary>Perplexity as llama-perplexity computes it, checked against llama.cpp's logits.</summary>
public class PerplexityTests
{
    internal const int Context = 128;

    /// <summary>llama-perplexity's number from llama.cpp's logits, written out plainly: whole chunks from an empty cache,
    /// BOS first, the second half scored.</summary>
    internal static (double Ppl, double Uncertainty, int Chunks) Reference(string model, int[] tokens, int context)
    {
        using var oracle = Oracle.LlamaCppModel.Load(model, context);
        var chunks = tokens.Length / context;
        double nll = 0, nll2 = 0;
        var count = 0;
        for (var c = 0; c < chunks; c++)
        {
            oracle.Reset();
            var chunk = tokens.Skip(c * context).Take(context).ToArray();
            chunk[0] = tokens[0];   // BOS
            var logits = oracle.Evaluate(chunk, allLogits: true);
            for (var j = context / 2; j < context - 1; j++)
            {
                var row = logits[j];
                var max = row.Max();
                var logSum = Math.Log(row.Sum(x => Math.Exp(x - max)));
                var v = -(row[tokens[c * context + j + 1]] - max - logSum);
                nll += v;
                nll2 += v * v;
                count++;
            }
        }
        var mean = nll / count;
        var ppl = Math.Exp(mean);
        return (ppl, Math.Sqrt((nll2 / count - mean * mean) / (count - 1)) * ppl, chunks);
    }

    [Fact]
    public void Chunked_batched_perplexity_of_llama_cpp_logits_equals_the_plain_formula()
    {
        var text = StoryText.Generate(260);
        var tokens = OracleSession.Tokenize(TestPaths.Stories260K, text);
        Assert.True(tokens.Length > 1500, $"{tokens.Length} tokens");
        var (ppl, uncertainty, chunks) = Reference(TestPaths.Stories260K, tokens, Context);

        using var session = OracleSession.Load(TestPaths.Stories260K, Context);
        var running = new List<double>();
        var result = Perplexity.Compute(session, tokens, tokens[0], new PerplexityOptions(Context, BatchSize: 48), (_, e) => running.Add(e));
        Assert.Equal(chunks, result.Chunks);
        Assert.Equal(chunks * (Context / 2 - 1), result.Tokens);
        Assert.Equal(ppl, result.Value, ppl * 1e-5);
        Assert.Equal(uncertainty, result.Uncertainty, uncertainty * 1e-4);
        Assert.Equal(result.RunningEstimates, running);
        Assert.Equal(result.Value, running[^1]);
    }

    [Fact]
    public void A_text_shorter_than_two_chunks_is_refused_with_the_counts()
    {
        using var session = OracleSession.Load(TestPaths.Stories260K, Context);
        var error = Assert.Throws<EvaluationException>(() =>
            Perplexity.Compute(session, Enumerable.Range(1, 255).ToArray(), 1, new PerplexityOptions(Context)));
        Assert.Contains("you need at least 256 tokens", error.Message);
        Assert.Contains("only 255 tokens", error.Message);
    }
}
