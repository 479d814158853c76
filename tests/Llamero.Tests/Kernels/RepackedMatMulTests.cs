using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Models;
using Llamero.Quants;
using Llamero.Quants.Interleaved;
using Llamero.Tests.Quants;
using Llamero.Tests.Support;

namespace Llamero.Tests.Kernels;

/// <summary>
/// Multiplying by a repacked matrix (<see cref="RepackedWeights"/>) gives what the plain matrix gives, within float
/// rounding, at any thread count and batch; each prompt row equals that row alone; and a model loaded with its
/// matrices repacked predicts what the plain one does.
/// </summary>
[Collection(nameof(MatMulThreads))]
public class RepackedMatMulTests
{
    public static TheoryData<string> Layouts() => Quants.Interleaved.InterleavedLayoutTests.Layouts();

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Repacked_matrix_multiplies_like_the_plain_one(string name)
    {
        var layout = Quants.Interleaved.InterleavedLayoutTests.Find(name);
        var cols = GgmlTypes.Get(layout.Type).BlockSize == 256 ? 512 : 256;
        // Q, K and V shaped parts: a plain one whose rows are no whole number of groups, then two repacked ones.
        var (q, _) = MatMulTests.MakeWeights(layout.Type, 20, cols);
        var (k, _) = MatMulTests.MakeWeights(layout.Type, 48, cols);
        var (v, _) = MatMulTests.MakeWeights(layout.Type, 16, cols);
        using var repacked = new RepackedWeights(t => t == layout.Type ? layout : null);
        var q2 = repacked.Repack(in q.Matrix);
        var k2 = repacked.Repack(in k.Matrix);
        var v2 = repacked.Repack(in v.Matrix);
        Assert.Null(q2.Layout);
        Assert.Same(layout, k2.Layout);
        Assert.Same(layout, v2.Layout);
        Assert.Equal(2, repacked.Count);
        Assert.Equal(k2.ByteSize + v2.ByteSize, repacked.Bytes);
        Assert.Throws<InvalidOperationException>(() => k2.Row(0).Length);

        var before = MatMul.Threads;
        try
        {
            foreach (var threads in new[] { 1, 2 })
            {
                MatMul.Threads = threads;
                foreach (var batch in new[] { 1, 5, 19 })
                {
                    var x = QuantRows.Make("gaussian", batch * cols, seed: batch);
                    float[] Plain(in WeightMatrix w)
                    {
                        var y = new float[batch * w.Rows];
                        MatMul.Multiply(in w, x, y, batch);
                        return y;
                    }
                    var (yq, yk, yv) = (new float[batch * 20], new float[batch * 48], new float[batch * 16]);
                    MatMul.Multiply(x, batch, in q2, yq, in k2, yk, in v2, yv);
                    Assert.Equal(Plain(in q.Matrix), yq);
                    AssertClose(Plain(in k.Matrix), yk, $"{name} K threads {threads} batch {batch}");
                    AssertClose(Plain(in v.Matrix), yv, $"{name} V threads {threads} batch {batch}");

                    // Every prompt row is bit-identical to that row multiplied alone.
                    for (var b = 0; b < batch; b++)
                    {
                        var alone = new float[48];
                        MatMul.Multiply(in k2, x.AsSpan(b * cols, cols), alone, 1);
                        Assert.Equal(alone, yk.AsSpan(b * 48, 48).ToArray());
                    }
                }
            }
        }
        finally
        {
            MatMul.Threads = before;
        }
        GC.KeepAlive(q);
        GC.KeepAlive(k);
        GC.KeepAlive(v);
    }

    [Fact]
    public void Model_with_repacked_weights_predicts_what_the_plain_one_does()
    {
        int[] prompt = [1, 403, 407, 261, 378, 432, 383, 286];
        float[][] Logits(ModelLoadOptions options)
        {
            using var model = LlamaModel.Load(TestPaths.Stories260K, options);
            using var session = model.CreateSession(64);
            var vocab = model.Config.VocabSize;
            var batch = new float[prompt.Length * vocab];
            session.EvaluateAll(prompt, batch);
            return [.. Enumerable.Range(0, prompt.Length).Select(i => batch.AsSpan(i * vocab, vocab).ToArray())];
        }

        var plain = Logits(new ModelLoadOptions { RepackWeights = false });
        using (var model = LlamaModel.Load(TestPaths.Stories260K, new ModelLoadOptions { LayoutFor = InterleavedLayouts.Reference }))
            Assert.True(model.Repacked.Matrices > 0, "stories260K has matrices of whole row groups");
        var repacked = Logits(new ModelLoadOptions { LayoutFor = InterleavedLayouts.Reference });
        for (var i = 0; i < prompt.Length; i++)
            AssertClose(plain[i], repacked[i], $"position {i}", tolerance: 1e-4);
    }

    private static void AssertClose(float[] expected, float[] actual, string what, double tolerance = 2e-5)
    {
        Assert.Equal(expected.Length, actual.Length);
        var scale = Math.Max(1.0, expected.Max(Math.Abs));
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what} [{i}]: plain {expected[i]:R}, repacked {actual[i]:R}");
    }
}
