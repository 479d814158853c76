using Llamero.Gguf;
using Llamero.Tests.Oracle;
using Llamero.Tests.Support;

namespace Llamero.Tests.Gguf;

public sealed class GgufShardTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-shards");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Prefix => Path.Combine(_dir, "stories");

    private IReadOnlyList<string> SplitStories(params string[] limit)
    {
        var (exit, output, error) = CliRunner.Run(["split", .. limit, TestPaths.Stories260K, Prefix]);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        var shards = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[1]).ToList();
        Assert.All(shards, s => Assert.True(File.Exists(s)));
        return shards;
    }

    private static void AssertSameTensors(GgufFile expected, GgufFile actual)
    {
        Assert.Equal(expected.Tensors.Select(t => (t.Name, t.Type, t.ByteSize)), actual.Tensors.Select(t => (t.Name, t.Type, t.ByteSize)));
        foreach (var t in expected.Tensors)
            Assert.True(expected.GetTensorData(t).SequenceEqual(actual.GetTensorData(actual.GetTensor(t.Name))), t.Name);
    }

    [Fact]
    public void Split_by_tensor_count_writes_gguf_split_shards_that_open_as_one_model()
    {
        var shards = SplitStories("--split-max-tensors", "20");
        Assert.Equal([Prefix + "-00001-of-00003.gguf", Prefix + "-00002-of-00003.gguf", Prefix + "-00003-of-00003.gguf"], shards);
        using var original = GgufFile.Open(TestPaths.Stories260K);
        foreach (var given in shards)
        {
            using var set = GgufFile.Open(given);
            Assert.Equal(3, set.ShardCount);
            Assert.Equal(3, set.Files.Count);
            AssertSameTensors(original, set);
            Assert.Equal(original.Require<string[]>(GgufKeys.Tokenizer.Tokens), set.Require<string[]>(GgufKeys.Tokenizer.Tokens));
        }
    }

    [Fact]
    public void Shards_follow_llama_cpps_layout()
    {
        var shards = SplitStories("--split-max-tensors", "20");
        using var original = GgufFile.Open(TestPaths.Stories260K);
        for (var i = 0; i < shards.Count; i++)
        {
            using var shard = GgufFile.OpenSingle(shards[i]);
            var keys = shard.Metadata.Select(kv => kv.Key).ToList();
            string[] split = [GgufKeys.Split.No, GgufKeys.Split.Count, GgufKeys.Split.TensorsCount];
            // First shard: all metadata, then the split keys; the others: the split keys only.
            Assert.Equal(i == 0 ? [.. original.Metadata.Select(kv => kv.Key), .. split] : split, keys);
            Assert.Equal(GgufValueType.UInt16, shard.Find(GgufKeys.Split.No)!.Type);
            Assert.Equal((ushort)i, shard.Find(GgufKeys.Split.No)!.Value);
            Assert.Equal(GgufValueType.UInt16, shard.Find(GgufKeys.Split.Count)!.Type);
            Assert.Equal(GgufValueType.Int32, shard.Find(GgufKeys.Split.TensorsCount)!.Type);
            Assert.Equal(48, shard.Require<int>(GgufKeys.Split.TensorsCount));
        }
    }

    [Fact]
    public void Split_then_merge_gives_back_the_original_bytes()
    {
        var shards = SplitStories("--split-max-size", "300K");
        Assert.True(shards.Count >= 4);
        using (var set = GgufFile.Open(shards[0]))
        {
            foreach (var shard in Enumerable.Range(0, set.ShardCount))
                Assert.True(set.Tensors.Where(t => t.Shard == shard).Sum(t => (t.ByteSize + 31) / 32 * 32) <= 300_000);
        }
        var merged = Path.Combine(_dir, "merged.gguf");
        var (exit, _, error) = CliRunner.Run("merge", shards[0], merged);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Equal(File.ReadAllBytes(TestPaths.Stories260K), File.ReadAllBytes(merged));

        (exit, _, error) = CliRunner.Run("merge", shards[0], merged);
        Assert.Equal(1, exit);
        Assert.Contains("already exists", error);
    }

    [Fact]
    public void A_missing_shard_is_named()
    {
        var shards = SplitStories("--split-max-tensors", "20");
        File.Delete(shards[1]);
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(shards[0]));
        Assert.Contains($"shard 2 is missing: {shards[1]}", ex.Message);
        var (exit, _, error) = CliRunner.Run("info", shards[2]);
        Assert.Equal(1, exit);
        Assert.Contains(shards[1], error);
    }

    [Fact]
    public void An_extra_shard_is_named()
    {
        var shards = SplitStories("--split-max-tensors", "20");
        var extra = Prefix + "-00004-of-00003.gguf";
        File.Copy(shards[2], extra);
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(shards[0]));
        Assert.Equal(extra, ex.FilePath);
        Assert.Contains("extra gguf-split shard", ex.Message);
    }

    [Fact]
    public void A_shard_number_outside_the_set_is_rejected()
    {
        var path = Prefix + "-00001-of-00003.gguf";
        using (var writer = new GgufWriter(path))
        {
            writer.AddMetadata(GgufKeyValue.Of(GgufKeys.Split.No, (ushort)5));
            writer.AddMetadata(GgufKeyValue.Of(GgufKeys.Split.Count, (ushort)3));
            writer.Commit();
        }
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains("split.no = 5 is outside the 3 shards", ex.Message);
    }

    [Fact]
    public void Split_needs_exactly_one_limit_and_a_valid_size()
    {
        var (exit, _, error) = CliRunner.Run("split", TestPaths.Stories260K, Prefix);
        Assert.Equal(1, exit);
        Assert.Contains("exactly one of", error);
        (exit, _, error) = CliRunner.Run("split", "--split-max-size", "2X", TestPaths.Stories260K, Prefix);
        Assert.Equal(1, exit);
        Assert.Contains("not a size", error);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void Llama_cpp_loads_the_shards_and_computes_the_same_logits()
    {
        var shards = SplitStories("--split-max-tensors", "16");
        int[] prompt = [1, 403, 407, 261];
        float[][] expected, actual;
        using (var whole = LlamaCppModel.Load(TestPaths.Stories260K, contextSize: 16))
            expected = whole.Evaluate(prompt, allLogits: true);
        using (var split = LlamaCppModel.Load(shards[0], contextSize: 16))
            actual = split.Evaluate(prompt, allLogits: true);
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i]);
    }
}
