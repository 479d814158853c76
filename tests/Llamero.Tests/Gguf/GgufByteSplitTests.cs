using Llamero.Gguf;
using Llamero.Tests.Support;

namespace Llamero.Tests.Gguf;

public sealed class GgufByteSplitTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("llamero-bytesplit");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Cuts stories260K into parts of <paramref name="partBytes"/>; returns the joined name.</summary>
    private string CutStories(long partBytes)
    {
        var joined = Path.Combine(_dir, "stories.gguf");
        GgufByteSplit.Cut(TestPaths.Stories260K, joined, partBytes);
        return joined;
    }

    private static void AssertSameModel(GgufFile expected, GgufFile actual)
    {
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Metadata.Select(kv => kv.Key), actual.Metadata.Select(kv => kv.Key));
        Assert.Equal(expected.Require<string[]>(GgufKeys.Tokenizer.Tokens), actual.Require<string[]>(GgufKeys.Tokenizer.Tokens));
        Assert.Equal(expected.Tensors.Count, actual.Tensors.Count);
        for (var i = 0; i < expected.Tensors.Count; i++)
        {
            var e = expected.Tensors[i];
            var a = actual.Tensors[i];
            Assert.Equal((e.Name, e.Type, e.Offset, e.ByteSize), (a.Name, a.Type, a.Offset, a.ByteSize));
            Assert.True(expected.GetTensorData(e).SequenceEqual(actual.GetTensorData(a)), e.Name);
        }
    }

    [Theory]
    [InlineData(200_000)]          // inside output.weight: one tensor straddles the cut
    [InlineData(5_000)]            // inside the header's vocabulary
    [InlineData(14_170)]           // inside the header padding
    [InlineData(400_000, 800_000)] // three parts
    public void Parts_load_exactly_as_the_joined_file_does(params int[] cuts)
    {
        var bytes = File.ReadAllBytes(TestPaths.Stories260K);
        var joined = Path.Combine(_dir, "stories.gguf");
        int[] bounds = [0, .. cuts, bytes.Length];
        for (var i = 0; i + 1 < bounds.Length; i++)
            File.WriteAllBytes(GgufSplitNaming.PartPath(joined, i), bytes[bounds[i]..bounds[i + 1]]);
        using var original = GgufFile.Open(TestPaths.Stories260K);
        foreach (var name in new[] { joined, GgufSplitNaming.PartPath(joined, 0), GgufSplitNaming.PartPath(joined, 1) })
        {
            using var parts = GgufFile.Open(name);
            Assert.True(parts.Files.Count >= 2);
            AssertSameModel(original, parts);
        }
    }

    [Fact]
    public void The_straddling_tensor_is_copied_once_and_the_rest_are_read_in_place()
    {
        var joined = CutStories(200_000);
        using var file = GgufFile.Open(joined);
        var straddling = file.GetTensor("output.weight");
        Assert.Equal(file.GetTensorPointer(straddling), file.GetTensorPointer(straddling));
        var other = file.GetTensor("blk.0.attn_q.weight");
        // blk.0.attn_q.weight lies wholly in part b: its pointer is inside that part's mapping, contiguous with its neighbour.
        var next = file.GetTensor("blk.0.attn_k.weight");
        Assert.Equal(next.Offset - other.Offset, file.GetTensorPointer(next) - file.GetTensorPointer(other));
    }

    [Fact]
    public void Join_concatenates_the_parts_into_the_original_bytes()
    {
        var joined = CutStories(300_000);
        var output = Path.Combine(_dir, "joined.gguf");
        var (exit, stdout, error) = CliRunner.Run("join", GgufSplitNaming.PartPath(joined, 1), output);
        Assert.Equal("", error);
        Assert.Equal(0, exit);
        Assert.Contains("joined 4 parts", stdout);
        Assert.Equal(File.ReadAllBytes(TestPaths.Stories260K), File.ReadAllBytes(output));
        Assert.Single(Directory.GetFiles(_dir, "joined*"));
    }

    [Fact]
    public void A_missing_last_part_is_named()
    {
        var joined = CutStories(700_000);
        File.Delete(GgufSplitNaming.PartPath(joined, 1));
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(GgufSplitNaming.PartPath(joined, 0)));
        Assert.Contains($"byte-split part {GgufSplitNaming.PartPath(joined, 1)} is missing", ex.Message);

        var output = Path.Combine(_dir, "out.gguf");
        var (exit, _, error) = CliRunner.Run("join", joined, output);
        Assert.Equal(1, exit);
        Assert.Contains("-split-b is missing", error);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void A_missing_first_or_middle_part_is_named()
    {
        var joined = CutStories(400_000);
        File.Delete(GgufSplitNaming.PartPath(joined, 1));
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(GgufSplitNaming.PartPath(joined, 2)));
        Assert.Contains($"byte-split part {GgufSplitNaming.PartPath(joined, 1)} is missing", ex.Message);
        File.Delete(GgufSplitNaming.PartPath(joined, 0));
        ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(GgufSplitNaming.PartPath(joined, 2)));
        Assert.Contains($"byte-split part {GgufSplitNaming.PartPath(joined, 0)} is missing", ex.Message);
    }

    [Fact]
    public void An_extra_part_is_named()
    {
        var joined = CutStories(700_000);
        var extra = GgufSplitNaming.PartPath(joined, 2);
        File.WriteAllBytes(extra, new byte[100]);
        var ex = Assert.Throws<GgufFormatException>(() => GgufFile.Open(joined));
        Assert.Equal(extra, ex.FilePath);
        Assert.Contains("extra byte-split part", ex.Message);
    }
}
