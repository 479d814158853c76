using System.Collections.Concurrent;
using LLama.Native;
using Llamero.Cli;
using Llamero.Gguf;
using Llamero.Quantization;
using Llamero.Tests.Oracle;
using Llamero.Tests.Support;

namespace Llamero.Tests.Quantization;

/// <summary>
/// <c>llamero quantize</c> against llama.cpp's quantizer (llama_model_quantize through LLamaSharp) on a synthetic
/// F32 Llama: every tensor of every mix byte-identical, same types, same general.file_type; and llama.cpp
/// loads Llamero's files.
/// </summary>
public class QuantizeOracleTests : IClassFixture<QuantizeOracleTests.Models>
{
    private readonly Models _models;

    public QuantizeOracleTests(Models models) => _models = models;

    public static TheoryData<string> MixNames() => new(QuantizationMix.All.Select(m => m.Name));

    [Theory]
    [MemberData(nameof(MixNames))]
    public void Every_tensor_is_byte_identical_to_llama_cpp(string mixName)
    {
        var mix = QuantizationMix.Parse(mixName);
        var (ours, theirs) = _models.Both(_models.Model, mix);
        AssertSameTensors(ours, theirs, mix);
    }

    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q5_K_S")]
    [InlineData("Q6_K")]
    public void Rows_that_dont_fit_256_blocks_fall_back_as_in_llama_cpp(string mixName)
    {
        var mix = QuantizationMix.Parse(mixName);
        var (ours, theirs) = _models.Both(_models.OddModel, mix);
        AssertSameTensors(ours, theirs, mix);
        var result = _models.Results[(ours, mix.Name)];
        Assert.Contains(result.Fallbacks, f => f.Contains("ffn_down", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q2_K")]
    [InlineData("Q4_0")]
    public void Pure_mixes_are_byte_identical_too(string mixName)
    {
        var mix = QuantizationMix.Parse(mixName);
        var (ours, theirs) = _models.Both(_models.Model, mix, pure: true);
        AssertSameTensors(ours, theirs, mix);
        using var f = GgufFile.Open(ours);
        Assert.All(f.Tensors.Where(t => t.Dimensions.Length > 1), t => Assert.Equal(mix.DefaultType, t.Type));
    }

    [Fact]
    public void Llama_cpp_loads_llamero_output()
    {
        foreach (var mix in new[] { "Q4_K_M", "Q8_0", "Q5_1" })
        {
            var (ours, _) = _models.Both(_models.Model, QuantizationMix.Parse(mix));
            using var model = LlamaCppModel.Load(ours, contextSize: 32);
            var logits = model.Evaluate([1, 42, 100])[0];
            Assert.Equal(SyntheticLlama.Vocab, logits.Length);
            Assert.All(logits, l => Assert.True(float.IsFinite(l)));
        }
    }

    [Fact]
    public void Command_writes_the_file_and_reports()
    {
        var dir = TestPaths.NewTempDir("llamero-quantize-cli");
        var output = Path.Combine(dir, "q8.gguf");
        var (code, stdout, stderr) = Run("quantize", _models.Model, output, "q8_0", "--threads", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("Q8_0", stdout, StringComparison.Ordinal);
        Assert.Contains("blk.7.ffn_down.weight", stderr, StringComparison.Ordinal);
        using var f = GgufFile.Open(output);
        Assert.Equal(7u, f.Require<uint>("general.file_type"));
    }

    [Fact]
    public void Unknown_mix_lists_the_valid_ones_and_writes_nothing()
    {
        var dir = TestPaths.NewTempDir("llamero-quantize-cli");
        var output = Path.Combine(dir, "out.gguf");
        var (code, _, stderr) = Run("quantize", _models.Model, output, "Q7_X");
        Assert.NotEqual(0, code);
        Assert.Contains("Q7_X", stderr, StringComparison.Ordinal);
        Assert.Contains("Q4_K_M", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void A_failure_midway_leaves_no_file()
    {
        // Q2_K's fallback for rows of 320 is IQ4_NL, which Llamero cannot write yet: the error names the tensor.
        var dir = TestPaths.NewTempDir("llamero-quantize-cli");
        var output = Path.Combine(dir, "out.gguf");
        var (code, _, stderr) = Run("quantize", _models.OddModel, output, "Q2_K");
        Assert.NotEqual(0, code);
        Assert.Contains("ffn_down", stderr, StringComparison.Ordinal);
        Assert.Contains("IQ4_NL", stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir));
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = Program.BuildRoot().Parse(args).Invoke(new System.CommandLine.InvocationConfiguration { Output = o, Error = e });
        return (code, o.ToString(), e.ToString());
    }

    private static void AssertSameTensors(string ours, string theirs, QuantizationMix mix)
    {
        using var a = GgufFile.Open(ours);
        using var b = GgufFile.Open(theirs);
        Assert.Equal(b.Require<uint>("general.file_type"), a.Require<uint>("general.file_type"));
        Assert.Equal(mix.FileType, a.Require<uint>("general.file_type"));
        Assert.Equal(b.Tensors.Select(t => t.Name), a.Tensors.Select(t => t.Name)); // llama.cpp's order too
        foreach (var t in b.Tensors)
        {
            var mine = a.GetTensor(t.Name);
            Assert.True(t.Type == mine.Type, $"{mix}: {t.Name} is {t.TypeName} in llama.cpp's file, {mine.TypeName} in Llamero's");
            Assert.Equal(t.Dimensions, mine.Dimensions);
            Assert.True(b.GetTensorData(t).SequenceEqual(a.GetTensorData(mine)), $"{mix}: {t.Name} ({t.TypeName}) bytes differ");
        }
    }

    /// <summary>The synthetic models and each mix quantized by both tools, made once per test class.</summary>
    public sealed class Models : IDisposable
    {
        private readonly string _dir = TestPaths.NewTempDir("llamero-quantize");
        private readonly ConcurrentDictionary<(string, string), (string, string)> _pairs = new();

        public Models()
        {
            Model = SyntheticLlama.Write(Path.Combine(_dir, "synthetic-f32.gguf"));
            // ffn 320: ffn_down rows fit 32-blocks but not 256-blocks.
            OddModel = SyntheticLlama.Write(Path.Combine(_dir, "synthetic-odd-f32.gguf"), ffn: 320, layers: 2);
        }

        public string Model { get; }
        public string OddModel { get; }
        public ConcurrentDictionary<(string, string), QuantizeResult> Results { get; } = new();

        public (string Ours, string Theirs) Both(string model, QuantizationMix mix, bool pure = false) =>
            _pairs.GetOrAdd((model, mix.Name + (pure ? "-pure" : "")), _ =>
            {
                var stem = Path.Combine(_dir, Path.GetFileNameWithoutExtension(model) + "-" + mix.Name + (pure ? "-pure" : ""));
                var ours = stem + "-llamero.gguf";
                var theirs = stem + "-llamacpp.gguf";
                Results[(ours, mix.Name)] = ModelQuantizer.Quantize(model, ours, mix, new QuantizeOptions(Threads: 2, Pure: pure));
                LlamaCppQuantize(model, theirs, mix, pure);
                return (ours, theirs);
            });

        /// <summary>llama_model_quantize called directly: LLamaSharp's wrapper refuses BF16 and has no --pure.</summary>
        private static void LlamaCppQuantize(string source, string destination, QuantizationMix mix, bool pure)
        {
            LlamaCppModel.EnsureNative();
            var p = LLamaModelQuantizeParams.Default();
            p.ftype = (LLamaFtype)mix.FileType;
            p.nthread = 2;
            p.allow_requantize = true;
            p.quantize_output_tensor = true;
            p.pure = pure;
            if (NativeApi.llama_model_quantize(source, destination, ref p) != 0)
                throw new InvalidOperationException($"llama.cpp could not quantize {source} to {mix}.");
        }

        public void Dispose()
        {
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
