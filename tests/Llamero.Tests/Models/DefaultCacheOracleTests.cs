using LLama.Native;
using Llamero.Models;
using Llamero.Tests.Oracle;
using Llamero.Tests.Support;
using Xunit.Abstractions;

namespace Llamero.Tests.Models;

/// <summary>
/// Both engines with their default KV caches (F16 in each since Llamero follows llama.cpp): a quantized synthetic
/// model's logits over a prompt and a generation, and its greedy tokens. Also prints how far Llamero's F32 cache (its
/// old default) sits from llama.cpp's default, the comparison a user running both tools saw before.
/// </summary>
public class DefaultCacheOracleTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419];

    [Fact]
    public void A_q4_k_m_model_with_both_default_caches_agrees_with_llama_cpp()
    {
        Assert.Equal(KvCacheOptions.F16, KvCacheOptions.Default);
        var source = SyntheticLlama.Write(SyntheticModelTests.Small with { Seed = 23, Layers = 3 });
        var path = Path.Combine(TestPaths.NewTempDir("llamero-default-cache"), "model-Q4_K_M.gguf");
        LlamaCppModel.Quantize(source, path, LLamaFtype.MOSTLY_Q4_K_M);

        using var model = LlamaModel.Load(path);
        using var oracle = LlamaCppModel.Load(path, contextSize: 128, keyType: KvCacheType.F16, valueType: KvCacheType.F16);
        using var session = model.CreateSession(128);
        const int steps = 32;
        var theirs = oracle.Greedy(Prompt, steps);
        Assert.Equal(theirs, ModelAssert.Greedy(session, Prompt, steps));

        // Every position's logits of the prompt and the generated tokens, in one batch on each side.
        var sequence = Prompt.Concat(theirs[..^1]).ToArray();
        oracle.Reset();
        var expected = oracle.Evaluate(sequence, allLogits: true).SelectMany(r => r).ToArray();
        session.Truncate(0);
        var ours = new float[expected.Length];
        session.EvaluateAll(sequence, ours);
        using var f32 = model.CreateSession(128, KvCacheOptions.F32);
        var oursF32 = new float[expected.Length];
        f32.EvaluateAll(sequence, oursF32);
        var diff = ModelAssert.MaxAbsDiff(expected, ours);
        var before = ModelAssert.MaxAbsDiff(expected, oursF32);
        output.WriteLine($"Q4_K_M, {sequence.Length} positions: |llama.cpp F16 - Llamero F16| max {diff:G3}; |llama.cpp F16 - Llamero F32| max {before:G3}; logit range {expected.Max() - expected.Min():F2}");
        // F16 rounding flips (see KvCacheTypeTests) and activation-quantizer flips (QuantizedModelTests) both apply.
        Assert.True(diff <= 1.0, $"max |llama.cpp - Llamero| = {diff:G3}");
    }
}
