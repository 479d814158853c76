using Llamero.Kernels;
using Llamero.Models;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>Final hidden states and mean pooling on the real stories260K model.</summary>
public class EmbeddingTests
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 285, 17, 291, 310];

    [Fact]
    public void Last_hidden_row_times_output_weight_reproduces_the_logits()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        int dim = model.Config.EmbeddingLength, vocab = model.Config.VocabSize;
        using var reference = model.CreateSession(64);
        var expected = reference.Evaluate(Prompt).ToArray();

        using var session = (LlamaSession)model.CreateSession(64);
        var hidden = new float[Prompt.Length * dim];
        session.EvaluateHidden(Prompt, hidden);
        Assert.Equal(Prompt.Length, session.Position);
        var logits = new float[vocab];
        MatMul.Multiply(model.Weights.Output, hidden.AsSpan((Prompt.Length - 1) * dim, dim), logits, 1);
        ModelAssert.Close(expected, logits, 1e-4, "logits from the last hidden row");
    }

    [Fact]
    public void Mean_pooled_embedding_is_unit_length_and_depends_on_the_input()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        float[] Embed(int[] tokens)
        {
            using var session = (LlamaSession)model.CreateSession(tokens.Length);
            return session.EmbedMean(tokens);
        }

        var a = Embed(Prompt);
        Assert.Equal(model.Config.EmbeddingLength, a.Length);
        Assert.Equal(1.0, Math.Sqrt(a.Sum(v => (double)v * v)), 4);
        Assert.Equal(a, Embed(Prompt));
        Assert.NotEqual(a, Embed([1, 300, 301]));
        Assert.Throws<ArgumentException>(() => ((LlamaSession)model.CreateSession(8)).EvaluateHidden([1, 2], new float[3]));
    }
}
