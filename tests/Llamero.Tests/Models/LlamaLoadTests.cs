using Llamero.Gguf;
using Llamero.Kernels;
using Llamero.Models;
using Llamero.Tests.Support;

namespace Llamero.Tests.Models;

/// <summary>Hyper-parameters read from GGUF, and bad files rejected with messages that name the key or tensor.</summary>
public class LlamaLoadTests
{
    private static readonly Lazy<string> Base = new(() => SyntheticLlama.Write(SyntheticModelTests.Small with { Seed = 5 }));

    private static string Edit(Func<GgufKeyValue, GgufKeyValue?> metadata, Func<GgufTensorInfo, bool>? keep = null) =>
        SyntheticLlama.Rewrite(Base.Value, metadata, keep ?? (_ => true));

    [Fact]
    public void Stories260K_config_is_read_from_its_keys()
    {
        using var model = LlamaModel.Load(TestPaths.Stories260K);
        var c = model.Config;
        Assert.Equal(("llama", 64, 5, 172, 8, 4, 8, 512, 2048), (c.Architecture, c.EmbeddingLength, c.BlockCount, c.FeedForwardLength, c.HeadCount, c.KvHeadCount, c.HeadSize, c.VocabSize, c.ContextLength));
        Assert.Equal(1e-5f, c.RmsEpsilon);
        Assert.Equal(new RopeParameters(8, 10000f, RopeScalingType.None, 1f, 2048), c.Rope);
    }

    [Fact]
    public void Load_reports_progress_up_to_one()
    {
        var reports = new List<double>();
        using var model = LlamaModel.Load(TestPaths.Stories260K, new SyncProgress(reports.Add));
        Assert.NotEmpty(reports);
        Assert.Equal(1.0, reports[^1], 6);
        Assert.True(reports.SequenceEqual(reports.Order()));
    }

    [Fact]
    public void An_unsupported_architecture_names_itself_and_the_supported_ones()
    {
        var path = Edit(kv => kv.Key == "general.architecture" ? GgufKeyValue.Of(kv.Key, "falcon") : kv);
        var ex = Assert.Throws<NotSupportedException>(() => LlamaModel.Load(path));
        Assert.Contains("'falcon'", ex.Message);
        Assert.Contains("Supported: llama", ex.Message);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var path = Edit(kv => kv, t => t.Name != "blk.1.ffn_up.weight");
        var ex = Assert.Throws<InvalidDataException>(() => LlamaModel.Load(path));
        Assert.Contains("'blk.1.ffn_up.weight' is missing", ex.Message);
    }

    [Fact]
    public void A_shape_contradicting_the_hyper_parameters_names_the_tensor()
    {
        // Two KV heads declared, but attn_k holds one head's rows.
        var path = Edit(kv => kv.Key == "llama.attention.head_count_kv" ? GgufKeyValue.Of(kv.Key, 2u) : kv);
        var ex = Assert.Throws<InvalidDataException>(() => LlamaModel.Load(path));
        Assert.Contains("'blk.0.attn_k.weight' has shape [256, 32]", ex.Message);
        Assert.Contains("[256, 64]", ex.Message);
    }

    [Fact]
    public void A_missing_hyper_parameter_names_the_key()
    {
        var path = Edit(kv => kv.Key == "llama.attention.layer_norm_rms_epsilon" ? null : kv);
        var ex = Assert.Throws<InvalidDataException>(() => LlamaModel.Load(path));
        Assert.Contains("llama.attention.layer_norm_rms_epsilon", ex.Message);
    }

    [Fact]
    public void Head_counts_that_do_not_divide_are_rejected()
    {
        var path = Edit(kv => kv.Key == "llama.attention.head_count_kv" ? GgufKeyValue.Of(kv.Key, 3u) : kv);
        var ex = Assert.Throws<InvalidDataException>(() => LlamaModel.Load(path));
        Assert.Contains("head_count 8 is not a multiple of head_count_kv 3", ex.Message);
    }

    [Fact]
    public void An_unknown_rope_scaling_type_is_named()
    {
        var path = SyntheticLlama.Write(SyntheticModelTests.Small with { RopeScalingType = "longrope", RopeScalingFactor = 2f });
        var ex = Assert.Throws<NotSupportedException>(() => LlamaModel.Load(path));
        Assert.Contains("'longrope'", ex.Message);
    }

    [Fact]
    public void Yarn_keys_are_read()
    {
        var path = SyntheticLlama.Write(SyntheticModelTests.Small with { RopeScalingType = "yarn", RopeScalingFactor = 8f, RopeOriginalContext = 8192, FreqBase = 500000f });
        using var model = LlamaModel.Load(path);
        Assert.Equal(new RopeParameters(32, 500000f, RopeScalingType.Yarn, 8f, 8192), model.Config.Rope);
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
