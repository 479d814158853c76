using LLama.Native;
using Llamero.Gguf;
using Llamero.Models;
using Llamero.Quants;
using Llamero.Tests.Oracle;
using Llamero.Tests.Support;
using Xunit.Abstractions;

namespace Llamero.Tests.Models;

/// <summary>
/// Synthetic Synthia-layout models quantized by llama.cpp's own quantizer into its real mixes (Q6_K output, Q6_K on
/// some attn_v/ffn_down, ...), then run by both engines: last-position logits and 64 greedy tokens.
/// </summary>
public class QuantizedModelTests(ITestOutputHelper output)
{
    private static readonly int[] Prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419];

    private static readonly Lazy<string> Source = new(() => SyntheticLlama.Write(SyntheticModelTests.Small with { Seed = 21, Layers = 3 }));

    // Both engines quantize activations to the same format (Q8_K / Q8_0) with the same rounding and multiply whole
    // blocks in integers; what differs is the float summation order of block results and of attention. Measured
    // differences: see each case's output. The tolerance is 1e-3 on logits spanning ~40 units.
    private const double Tolerance = 1e-3;

    [Theory]
    [InlineData(LLamaFtype.MOSTLY_Q6_K)]
    public void Quantized_mix_matches_llama_cpp(LLamaFtype mix)
    {
        var path = Path.Combine(TestPaths.NewTempDir("llamero-quant"), $"model-{mix}.gguf");
        LlamaCppModel.Quantize(Source.Value, path, mix);
        using (var file = GgufFile.Open(path))
        {
            var types = file.Tensors.GroupBy(t => t.Type).Select(g => $"{GgmlTypes.NameOf(g.Key)} x{g.Count()}");
            output.WriteLine($"{mix}: {string.Join(", ", types)}");
            Assert.All(file.Tensors, t => Assert.True(QuantFormats.IsSupported(t.Type), $"{t.Name} is {GgmlTypes.NameOf(t.Type)}"));
        }

        using var model = LlamaModel.Load(path);
        using var session = model.CreateSession(128);
        var ours = session.Evaluate(Prompt).ToArray();
        using var oracle = LlamaCppModel.Load(path, contextSize: 128);
        var theirs = oracle.Evaluate(Prompt)[0];
        var diff = ModelAssert.MaxAbsDiff(theirs, ours);
        output.WriteLine($"max |diff| {diff:G3}, logit range {theirs.Max() - theirs.Min():F2}");
        Assert.True(diff <= Tolerance, $"max |llama.cpp - Llamero| = {diff:G3} > {Tolerance:G3}");

        session.Truncate(0);
        oracle.Reset();
        Assert.Equal(oracle.Greedy(Prompt, 64), ModelAssert.Greedy(session, Prompt, 64));
    }
}
