using Llamero.Models;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Runtime.InteropServices;
using Llamero.Evaluation;
using Llamero.Gguf;
using Llamero.Quants;
using Llamero.Tests.Support;
using Xunit.Abstractions;

namespace Llamero.Tests.Evaluation;

/// <summary>
/// KL divergence of real quantizations of stories260K against its F32 original, as a user runs it (quantize, save the
/// base logits, compare), checked against the same statistics computed from llama.cpp's logits of the same files.
/// stories260K's FFN rows are 172 wide, which neither Q8_0 nor Q4_0 (nor llama-quantize) can store, so the mixes
/// are the ones llama-quantize makes of it: Q6_K → Q8_0 on every 64-wide tensor and F16 on ffn_down; Q4_K_S → Q5_0
/// (Q5_1 on most attn_v) and F16 on ffn_down; F16 everywhere as the near-lossless end. Beside those, Q8_0 and Q4_0
/// files written with the same row quantizers on every matrix whose rows fit (ffn_down kept in F32).
/// </summary>
public sealed partial class QuantizedKlDivergenceTests(ITestOutputHelper log) : IDisposable
{
    private const int Context = 64;
    private readonly string _dir = TestPaths.NewTempDir("llamero-qkld");

    /// <summary>The figures llama-perplexity prints for one comparison.</summary>
    private sealed record Figures(double MeanKld, double SameTopPercent, double PplRatio);

    [Fact]
    public void Quantized_stories260K_diverges_from_its_f32_original_as_llama_cpp_says()
    {
        var textPath = Path.Combine(_dir, "story.txt");
        var text = StoryText.Generate(200, seed: 11);
        File.WriteAllText(textPath, text);
        var tokens = OracleSession.Tokenize(TestPaths.Stories260K, text);

        // Ours: the CLI end to end.
        var ourBase = Path.Combine(_dir, "ours-f32.kld");
        var saved = Run("perplexity", "-m", TestPaths.Stories260K, "-f", textPath, "-c", $"{Context}", "--kl-divergence-base", ourBase, "-ctk", "f32", "-ctv", "f32");
        Assert.True(saved.Code == 0, saved.Error);

        // llama.cpp: its logits of the F32 file, saved in the same format.
        var theirBase = Path.Combine(_dir, "llama-cpp-f32.kld");
        using (var oracle = OracleSession.Load(TestPaths.Stories260K, Context))
        using (var writer = new LogitsFileWriter(theirBase))
        {
            Perplexity.Compute(oracle, tokens, tokens[0], new PerplexityOptions(Context), saveLogits: writer);
            writer.Commit();
        }

        var results = new Dictionary<string, (Figures Ours, Figures LlamaCpp)>();
        foreach (var mix in new[] { "F16", "Q6_K", "Q4_K_S", "Q8_0", "Q4_0" })
        {
            var quantized = Path.Combine(_dir, $"stories260K-{mix}.gguf");
            if (mix is "Q8_0" or "Q4_0")
                WriteWhereRowsFit(quantized, mix == "Q8_0" ? GgmlType.Q8_0 : GgmlType.Q4_0);
            else
            {
                var quantize = Run("quantize", TestPaths.Stories260K, quantized, mix);
                Assert.True(quantize.Code == 0, quantize.Error);
            }

            var compare = Run("perplexity", "-m", quantized, "--kl-divergence-base", ourBase, "--kl-divergence", "-ctk", "f32", "-ctv", "f32");
            Assert.True(compare.Code == 0, compare.Error);
            var ours = Parse(compare.Output);

            using var reader = new LogitsFileReader(theirBase);
            using var oracle = OracleSession.Load(quantized, Context);
            var stats = KlDivergence.Compute(oracle, reader, tokens[0], 2048);
            var llamaCpp = new Figures(stats.Kld.Mean, 100 * stats.SameTopP.Mean, Math.Exp(stats.LogPplRatio.Mean));
            results[mix] = (ours, llamaCpp);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{mix,-7} ours: KLD {ours.MeanKld:F6} same top {ours.SameTopPercent:F3}% PPL ratio {ours.PplRatio:F6} | llama.cpp: KLD {llamaCpp.MeanKld:F6} same top {llamaCpp.SameTopPercent:F3}% PPL ratio {llamaCpp.PplRatio:F6} ({stats.Count} tokens)"));

            // KLD printed with 6 decimals; the two engines round activations alike but sum in different orders.
            Assert.True(Math.Abs(ours.MeanKld - llamaCpp.MeanKld) <= 0.05 * llamaCpp.MeanKld + 2e-6,
                $"{mix}: mean KLD ours {ours.MeanKld}, llama.cpp {llamaCpp.MeanKld}");
            // Near-ties flip either way under different summation orders: allow 0.3 % of the tokens (at 1,600 tokens,
            // five flips; Q4_K_S loses about six times that).
            Assert.True(Math.Abs(ours.SameTopPercent - llamaCpp.SameTopPercent) <= 0.3,
                $"{mix}: same top p ours {ours.SameTopPercent}%, llama.cpp {llamaCpp.SameTopPercent}%");
            Assert.True(Math.Abs(ours.PplRatio - llamaCpp.PplRatio) <= 1e-3,
                $"{mix}: PPL ratio ours {ours.PplRatio}, llama.cpp {llamaCpp.PplRatio}");
        }

        // More bits, less divergence, on both engines.
        foreach (var (better, worse) in new[] { ("F16", "Q6_K"), ("Q6_K", "Q4_K_S"), ("Q8_0", "Q4_0"), ("Q4_K_S", "Q4_0") })
        {
            Assert.True(results[better].Ours.MeanKld < results[worse].Ours.MeanKld, $"ours: KLD {better} >= {worse}");
            Assert.True(results[better].LlamaCpp.MeanKld < results[worse].LlamaCpp.MeanKld, $"llama.cpp: KLD {better} >= {worse}");
        }
        Assert.True(results["Q4_0"].Ours.SameTopPercent < 100);
    }

    /// <summary>
    /// stories260K with every matrix whose rows fit <paramref name="type"/>'s 32-element blocks stored in that type (by
    /// the same per-format quantizers <c>llamero quantize</c> uses) and the rest (the 172-wide ffn_down rows, the norms)
    /// copied in F32: the pure Q8_0 / Q4_0 file llama-quantize would write if it had a fallback for those rows.
    /// </summary>
    private static void WriteWhereRowsFit(string path, GgmlType type)
    {
        using var source = GgufFile.Open(TestPaths.Stories260K);
        var format = QuantFormats.Get(type);
        var plan = source.Tensors.Select(t => (Tensor: t, Type: t.Type == GgmlType.F32 && t.Dimensions.Length == 2
            && t.Dimensions[0] % format.Traits.BlockSize == 0 ? type : t.Type)).ToList();
        Assert.Equal(32, plan.Count(p => p.Type == type));   // token_embd, output and 6 matrices x 5 layers
        using var writer = new GgufWriter(path);
        writer.AddMetadata(source.Metadata);
        foreach (var (t, to) in plan)
            writer.AddTensor(t.Name, to, t.Dimensions);
        foreach (var (t, to) in plan)
        {
            if (to == t.Type)
            {
                writer.WriteTensorData(source, t);
                continue;
            }
            var n = (int)t.Dimensions[0];
            var rowBytes = (int)format.Traits.RowBytes(n);
            var floats = MemoryMarshal.Cast<byte, float>(source.GetTensorData(t));
            var bytes = new byte[floats.Length / n * rowBytes];
            for (var r = 0; r < floats.Length / n; r++)
                format.Quantize(floats.Slice(r * n, n), bytes.AsSpan(r * rowBytes, rowBytes));
            writer.WriteTensorData(bytes);
        }
        writer.Commit();
    }

    [GeneratedRegex(@"Mean    KLD:\s+(-?[0-9.]+)")]
    private static partial Regex MeanKld();

    [GeneratedRegex(@"Same top p:\s+([0-9.]+)")]
    private static partial Regex SameTop();

    [GeneratedRegex(@"Mean PPL\(Q\)/PPL\(base\)\s+:\s+([0-9.]+)")]
    private static partial Regex PplRatio();

    private static Figures Parse(string output)
    {
        double Value(Regex regex)
        {
            var match = regex.Match(output);
            Assert.True(match.Success, output);
            return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }
        return new Figures(Value(MeanKld()), Value(SameTop()), Value(PplRatio()));
    }

    private static (int Code, string Output, string Error) Run(params string[] args) => Gguf.CliRunner.Run(args);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
