using Llamero.Tests.Oracle;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>The oracle itself against the golden file: llama.cpp and an independent float64 forward pass agree on
/// stories260K, so either can stand for the truth in the other tests.</summary>
public class LlamaCppOracleTests
{
    [Fact]
    public void LlamaCpp_reproduces_the_stories260K_golden_logits_and_greedy_text()
    {
        var golden = StoriesGolden.Instance;
        using var model = LlamaCppModel.Load(TestPaths.Stories260K, contextSize: 512);
        var inputs = golden.Logits.Select(l => l.InputId).ToArray();
        var logits = model.Evaluate(inputs, allLogits: true);
        var worst = 0.0;
        for (var p = 0; p < inputs.Length; p++)
        {
            for (var i = 0; i < logits[p].Length; i++)
                worst = Math.Max(worst, Math.Abs(logits[p][i] - golden.Logits[p].Logits[i]));
        }
        Assert.True(worst < 1e-4, $"max |llama.cpp - golden| = {worst}");

        model.Reset();
        Assert.Equal(golden.GeneratedIds, model.Greedy(golden.InputIds, golden.GeneratedIds.Length));
    }
}
